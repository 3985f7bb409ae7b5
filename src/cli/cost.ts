// `byok cost`: what the ledger says, by model, by day and by conversation, with cache hit rate and savings.
// Unpriced requests are counted and shown as such, never folded into $0; local models say "local".
import { Clock, Effect, Option } from "effect"
import { UsageError } from "../config/errors.ts"
import { hitRate } from "../ledger/cost.ts"
import { CostLedger, type Report, type Totals } from "../ledger/ledger.ts"
import { SessionStore } from "../chat/sessions.ts"
import type { CostInput } from "./inputs.ts"
import { formatUsd, isoMinute, printJson, printLine, usdJson } from "./render.ts"
import { withConfig } from "./services.ts"
import { displayWidth, padEnd, padStart, truncateToWidth } from "../lib/width.ts"
import { ConfigService } from "../config/config.ts"
import { findPrice } from "../ledger/prices.ts"

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }

/** `7d`, `24h`, `30m`, `2w`, `today`, `yesterday`, or a date (`2026-11-01`) → ms since the epoch. */
export const parseSince = (text: string, now: number): number | undefined => {
  const s = text.trim().toLowerCase()
  const rel = /^(\d+)\s*([mhdw])$/.exec(s)
  // 0d would be "since now": nothing; a bare number has no unit. Both are refused rather than guessed.
  if (rel) return Number(rel[1]) > 0 ? now - Number(rel[1]) * UNITS[rel[2]!]! : undefined
  if (s === "today" || s === "yesterday") {
    const d = new Date(now)
    d.setHours(0, 0, 0, 0)
    return d.getTime() - (s === "yesterday" ? UNITS["d"]! : 0)
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) {
    const t = new Date(`${s}T00:00:00`).getTime()
    return Number.isNaN(t) ? undefined : t
  }
  // A date with a time (2026-11-01T09:30, 2026-11-01 09:30): nothing looser, so "7" or "99999" is no year.
  if (/^\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(:\d{2})?$/.test(s)) {
    const t = new Date(s.replace(" ", "t").toUpperCase()).getTime()
    return Number.isNaN(t) ? undefined : t
  }
  return undefined
}

export const formatTokens = (n: number): string =>
  n < 10_000 ? n.toLocaleString("en-US") : n < 1_000_000 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1e6).toFixed(2)}M`


/** Cost as a person should read it: local, unpriced, or dollars with the unpriced count beside them. */
export const costCell = (t: Totals): string => {
  const priced = t.requests - t.unpriced
  if (t.requests > 0 && t.local === t.requests) return "local"
  if (priced === 0) return "unpriced"
  return t.unpriced > 0 ? `${formatUsd(t.cost)} +${t.unpriced} unpriced` : formatUsd(t.cost)
}

export const hitRateCell = (t: Totals): string => {
  const rate = hitRate(t.cacheRead, t.inputUncached + t.cacheRead + t.cacheWrite)
  return rate === undefined ? "-" : `${(rate * 100).toFixed(1)}%`
}

const HEADER = ["", "REQS", "INPUT", "CACHE READ", "CACHE WRITE", "OUTPUT", "COST", "HIT RATE", "SAVINGS"]

/** What caching saved, where any request was priced (local and unpriced ones have no savings to tell). */
export const savingsCell = (t: Totals): string | undefined =>
  t.requests - t.unpriced - t.local > 0 ? formatUsd(t.savings) : undefined

/** Figures that rest on byok's estimates (lib/tokens.ts) are marked with ~. */
const approx = (t: Totals, text: string) => (t.estimated > 0 && text !== "-" && text !== "local" ? `~${text}` : text)

const row = (t: Totals, label: string): Array<string> => [
  label,
  String(t.requests),
  approx(t, formatTokens(t.inputUncached)),
  formatTokens(t.cacheRead),
  formatTokens(t.cacheWrite),
  approx(t, formatTokens(t.outputTokens)) + (t.reasoningTokens > 0 ? ` (${formatTokens(t.reasoningTokens)} reasoning)` : ""),
  approx(t, costCell(t)),
  hitRateCell(t),
  savingsCell(t) ?? "-"
]

const table = (title: string, rows: ReadonlyArray<Totals>, label: (t: Totals) => string = (t) => t.key): string => {
  const cells = [[title, ...HEADER.slice(1)], ...rows.map((t) => row(t, label(t)))]
  // Columns by the width a terminal draws (a CJK or emoji title takes two columns a character), not by length.
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => displayWidth(r[c]!))))
  return cells.map((r) => r.map((cell, c) => (c === 0 ? padEnd(cell, widths[c]!) : padStart(cell, widths[c]!))).join("  "))
    .join("\n")
}

/** "12 requests (1 failed, 8 interrupted)": one parenthesis, only what happened. */
export const requestsLine = (t: Totals): string => {
  const notes = [
    t.failed > 0 ? `${t.failed} failed` : undefined,
    t.interrupted > 0 ? `${t.interrupted} interrupted` : undefined,
    t.unfinished > 0 ? `${t.unfinished} unfinished: byok was stopped before they ended` : undefined
  ].filter((n) => n !== undefined)
  return `${t.requests} request${t.requests === 1 ? "" : "s"}` + (notes.length > 0 ? ` (${notes.join(", ")})` : "")
}

export const renderReport = (report: Report, limit: number, titles: ReadonlyMap<string, string> = new Map()): string => {
  if (report.total.requests === 0) return "No requests recorded yet."
  // Conversations by the 8 characters `byok -s` takes, and their first prompt.
  const conversation = (c: Totals) => {
    const title = titles.get(c.key)
    return `${c.key.slice(0, 8)}${title !== undefined ? `  ${truncateToWidth(title, 32)}` : ""}`
  }
  const t = report.total
  const lines = [
    requestsLine(t) +
    `: ${approx(t, costCell(t))}, cache hit rate ${hitRateCell(t)}` +
    (savingsCell(t) !== undefined ? `, caching saved ${savingsCell(t)}` : ""),
    "",
    table("MODEL", report.byModel),
    "",
    table("DAY", report.byDay.slice(0, limit)),
    "",
    table("CONVERSATION", report.byConversation.slice(0, limit), conversation)
  ]
  if (t.estimated > 0) {
    lines.push(
      "",
      `~ ${t.estimated} request${t.estimated === 1 ? "'s" : "s'"} tokens are byok's estimate, and priced from it: their answers ` +
        "were cut off before the server said its count (OpenAI's tokenizer for OpenAI models, else about 4 characters a token)."
    )
  }
  if (t.unpriced > 0) {
    lines.push(
      "",
      `${t.unpriced === 1 ? "1 request is" : `${t.unpriced} requests are`} unpriced: add a "prices" entry for ` +
        `${t.unpriced === 1 ? "its model" : "their models"} to byok's own ~/.config/byok/config.json (byok cost ` +
        "then prices them too)."
    )
  }
  return lines.join("\n")
}

export const runCost = (flags: CostInput) =>
  Effect.gen(function*() {
    if (flags.limit < 1) {
      return yield* new UsageError({ detail: `--limit must be a whole number of 1 or more, got ${flags.limit}` })
    }
    const ledger = yield* CostLedger
    const now = yield* Clock.currentTimeMillis
    let since: number | undefined
    if (Option.isSome(flags.since)) {
      since = parseSince(flags.since.value, now)
      if (since === undefined) {
        return yield* new UsageError({
          detail: `--since ${JSON.stringify(flags.since.value)} is not a time`,
          hint: "Use a number with a unit (30m, 24h, 7d, 2w), today, yesterday, or a date like 2026-11-01 (or 2026-11-01T09:30)."
        })
      }
    }
    // Rows that were unpriced when written take a price known now: one the user has since added to byok's own
    // file (or to the --config/BYOK_CONFIG file), or one a newer byok's table has. A config that cannot be read, or
    // a ledger that cannot be written here, leaves them as they are.
    const loaded = yield* (yield* ConfigService).load.pipe(Effect.option)
    const prices = Option.isSome(loaded) ? loaded.value.prices : {}
    yield* ledger.reprice((name, id, host) => {
      const override = prices[name] ?? prices[id]
      if (override !== undefined) return { kind: "config", price: override }
      const row = findPrice(id, host.replace(/:\d+$/, ""))
      return row !== undefined ? { kind: "table", asOf: row.asOf, price: row } : { kind: "unpriced" }
    }).pipe(Effect.ignore)
    const model = Option.getOrUndefined(flags.model)
    const report = yield* ledger.report({ since, model, conversations: flags.limit })
    // A filter that matched nothing says so, rather than that nothing was ever recorded.
    if (report.total.requests === 0 && (model !== undefined || since !== undefined)) {
      const all = yield* ledger.report({})
      if (all.total.requests > 0) {
        const what = [model !== undefined ? `for model "${model}"` : "", since !== undefined ? `since ${isoMinute(since)}` : ""]
          .filter((s) => s !== "").join(" ")
        const models = all.byModel.map((m) => m.key)
        return yield* printLine(
          `No requests ${what} (${requestsLine(all.total)} on record in all` +
            (model !== undefined ? `, for: ${models.join(", ")})` : ")")
        )
      }
    }
    const titles = yield* (yield* SessionStore).titles(report.byConversation.map((c) => c.key)).pipe(
      Effect.orElseSucceed(() => new Map<string, string>())
    )
    if (flags.json) {
      const withRates = (t: Totals) => ({
        ...t,
        cost: usdJson(t.cost),
        savings: usdJson(t.savings),
        hitRate: hitRate(t.cacheRead, t.inputUncached + t.cacheRead + t.cacheWrite) ?? null,
        estimated: t.estimated > 0,
        estimatedRequests: t.estimated
      })
      return yield* printJson({
        ledger: ledger.path,
        total: withRates(report.total),
        byModel: report.byModel.map(withRates),
        byDay: report.byDay.slice(0, flags.limit).map(withRates),
        byConversation: report.byConversation.map((c) => ({ ...withRates(c), title: titles.get(c.key) ?? null }))
      })
    }
    yield* printLine(renderReport(report, flags.limit, titles))
  }).pipe(withConfig(Option.none(), "cost"))
