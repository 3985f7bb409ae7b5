// `byok cost`: what the ledger says, by model, by day and by conversation, with cache hit rate and savings.
// Unpriced requests are counted and shown as such, never folded into $0; local models say "local".
import { Clock, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { UsageError } from "../config/errors.ts"
import { hitRate } from "../ledger/cost.ts"
import { CostLedger, type Report, type Totals } from "../ledger/ledger.ts"
import { printJson, printLine } from "./render.ts"

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }

/** `7d`, `24h`, `30m`, `2w`, `today`, `yesterday`, or a date (`2026-11-01`) → ms since the epoch. */
export const parseSince = (text: string, now: number): number | undefined => {
  const s = text.trim().toLowerCase()
  const rel = /^(\d+)\s*([mhdw])$/.exec(s)
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]!]!
  if (s === "today" || s === "yesterday") {
    const d = new Date(now)
    d.setHours(0, 0, 0, 0)
    return d.getTime() - (s === "yesterday" ? UNITS["d"]! : 0)
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) {
    const t = new Date(`${s}T00:00:00`).getTime()
    return Number.isNaN(t) ? undefined : t
  }
  const t = Date.parse(text)
  return Number.isNaN(t) ? undefined : t
}

export const formatTokens = (n: number): string =>
  n < 10_000 ? n.toLocaleString("en-US") : n < 1_000_000 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1e6).toFixed(2)}M`

export const formatUsd = (n: number): string => (Math.abs(n) >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`)

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

const row = (t: Totals): Array<string> => [
  t.key,
  String(t.requests),
  formatTokens(t.inputUncached),
  formatTokens(t.cacheRead),
  formatTokens(t.cacheWrite),
  formatTokens(t.outputTokens) + (t.reasoningTokens > 0 ? ` (${formatTokens(t.reasoningTokens)} reasoning)` : ""),
  costCell(t),
  hitRateCell(t),
  t.requests - t.unpriced - t.local > 0 ? formatUsd(t.savings) : "-"
]

const table = (title: string, rows: ReadonlyArray<Totals>): string => {
  const cells = [[title, ...HEADER.slice(1)], ...rows.map(row)]
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)))
  return cells.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "))
    .join("\n")
}

export const renderReport = (report: Report, limit: number): string => {
  if (report.total.requests === 0) return "No requests recorded yet."
  const t = report.total
  const lines = [
    `${t.requests} requests` + (t.failed > 0 ? ` (${t.failed} failed)` : "") +
    (t.interrupted > 0 ? ` (${t.interrupted} interrupted)` : "") +
    (t.unfinished > 0 ? ` (${t.unfinished} unfinished: byok was stopped before they ended)` : "") +
    `: ${costCell(t)}, cache hit rate ${hitRateCell(t)}` +
    (t.requests - t.unpriced - t.local > 0 ? `, caching saved ${formatUsd(t.savings)}` : ""),
    "",
    table("MODEL", report.byModel),
    "",
    table("DAY", report.byDay.slice(0, limit)),
    "",
    table("CONVERSATION", report.byConversation.slice(0, limit))
  ]
  if (t.unpriced > 0) {
    lines.push("", `${t.unpriced} requests are unpriced: add a "prices" entry for their model to ~/.config/byok/config.json.`)
  }
  return lines.join("\n")
}

const command = Command.make("cost", {
  since: Flag.String("since").pipe(
    Flag.withMetavar("WHEN"),
    Flag.withDescription("Only requests since then: 24h, 7d, 2w, today, yesterday, or a date like 2026-11-01"),
    Flag.optional
  ),
  model: Flag.String("model").pipe(
    Flag.withAlias("m"),
    Flag.withMetavar("NAME"),
    Flag.withDescription("Only this model (display name or model id)"),
    Flag.optional
  ),
  limit: Flag.Int("limit").pipe(
    Flag.withMetavar("N"),
    Flag.withDescription("Most recent days and conversations shown (also with --json)"),
    Flag.withDefault(10)
  ),
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print the totals as JSON"), Flag.withDefault(false))
}, (flags) =>
  Effect.gen(function*() {
    const ledger = yield* CostLedger
    const now = yield* Clock.currentTimeMillis
    let since: number | undefined
    if (Option.isSome(flags.since)) {
      since = parseSince(flags.since.value, now)
      if (since === undefined) {
        return yield* new UsageError({
          detail: `--since ${JSON.stringify(flags.since.value)} is not a time`,
          hint: "Use 24h, 7d, 2w, today, yesterday, or a date like 2026-11-01."
        })
      }
    }
    const report = yield* ledger.report({ since, model: Option.getOrUndefined(flags.model), conversations: flags.limit })
    if (flags.json) return yield* printJson({ ledger: ledger.path, ...report, byDay: report.byDay.slice(0, flags.limit) })
    yield* printLine(renderReport(report, flags.limit))
  })).pipe(
    Command.withDescription("Show what the requests in the cost ledger cost: by model, day and conversation"),
    Command.withExamples([
      { command: "byok cost", description: "Everything on record" },
      { command: "byok cost --since 7d -m \"Claude Sonnet\"", description: "One model, last week" },
      { command: "byok cost --json | jq .total.cost", description: "Total dollars, for scripts" }
    ])
  )

export { command as cost }
