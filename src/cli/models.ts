// `byok models`: the configured models (display name, provider, model id, host), never their keys; with
// `--discover`, also the models of the local servers listening now, which `--save` writes to byok's own file.
import { Effect } from "effect"
import {
  ConfigService,
  configWarnings,
  DISCOVERED_SOURCE,
  discoveredEntries,
  saveModels,
  unexpandedKeyWarning,
  usableEntries
} from "../config/config.ts"
import { UsageError } from "../config/errors.ts"
import type { ModelEntry } from "../config/schema.ts"
import { displayWidth, padEnd } from "../lib/width.ts"
import { LocalServers } from "../providers/local.ts"
import { windowOf } from "../conversation/compaction.ts"
import type { ModelsInput } from "./inputs.ts"
import { withConfig } from "./services.ts"
import { printLine } from "./render.ts"
import { note, term, warn } from "./term.ts"

/** A window as the table shows it: 8k, 128k, 1M, 1.05M. */
const formatWindow = (n: number) =>
  n >= 1_000_000 ? `${+(n / 1_000_000).toFixed(2)}M` : n >= 1000 ? `${+(n / 1000).toFixed(n % 1000 === 0 || n >= 100_000 ? 0 : 1)}k` : String(n)

export const runModels = (flags: ModelsInput) =>
  Effect.gen(function*() {
    const t = yield* term
    if (flags.save && !flags.discover) {
      return yield* new UsageError({
        detail: "--save keeps the models --discover finds, and was given without it",
        hint: "byok models --discover --save"
      })
    }
    const config = yield* ConfigService
    const loaded = yield* config.load
    // The default is whatever `byok exec` without -m would use.
    const chosen = yield* config.select().pipe(Effect.option)
    const configured = usableEntries(loaded)
    // Without models configured, load already looked; --discover looks whatever is configured.
    const facts = flags.discover && loaded.discovered.length === 0 ? yield* (yield* LocalServers).discover : []
    const found = discoveredEntries(facts)
    const known = new Set(configured.map((e) => e.displayName))
    const all: ReadonlyArray<ModelEntry> = [...configured, ...found.filter((e) => !known.has(e.displayName))]
    // The window: the entry's, else what a local server found here said it serves, else the table, else the default.
    const served = new Map([...loaded.discovered, ...facts].flatMap((d) => (d.context !== undefined ? d.models.map((m) => [m, d.context!] as const) : [])))
    const rows = all.map((e) => ({
      displayName: e.displayName,
      context: windowOf(e, e.endpoint.isLocal ? served.get(e.model) : undefined),
      provider: e.provider,
      model: e.model,
      host: e.endpoint.host,
      baseUrl: e.baseUrl,
      maxOutputTokens: e.maxOutputTokens,
      source: e.source.file,
      default: chosen._tag === "Some" && chosen.value.entry === e
    }))
    // Entries that cannot be used (an unset ${VAR}, a wrong field): listed, marked, with the reason.
    const unusable = loaded.entries.filter((r) => r.entry === undefined && r.issues.length > 0).map((r) => ({
      displayName: r.name ?? r.at,
      model: r.model ?? "",
      source: r.file,
      reason: r.issues.map((i) => `${i.path.slice(r.at.length).replace(/^\./, "") || "entry"}: ${i.message}`).join("; ")
    }))
    for (const w of configWarnings(loaded, undefined)) yield* warn(t, w)
    for (const e of configured) for (const w of unexpandedKeyWarning(e)) yield* warn(t, w)
    const discovered = all.filter((e) => e.source.file === DISCOVERED_SOURCE)
    if (flags.save) {
      if (discovered.length === 0) yield* note(t, "No local server found on 11434 (Ollama), 8080 (llama.cpp), 1234 (LM Studio) or 8000 (vLLM); nothing saved.")
      else if (loaded.ownFile === undefined) {
        yield* warn(t, "nothing saved: set XDG_CONFIG_HOME or HOME, where byok's own config file lives")
      } else {
        const added = yield* saveModels(loaded.ownFile, discovered)
        yield* note(t, `Saved ${added} model${added === 1 ? "" : "s"} to ${loaded.ownFile}.`)
      }
    } else if (discovered.length > 0) {
      yield* note(t, `Models marked + were found on local servers now; \`byok models --discover --save\` keeps them in ${loaded.ownFile}.`)
    }
    if (flags.json) {
      return yield* printLine(JSON.stringify([
        ...rows.map((r) => ({ ...r, usable: true })),
        ...unusable.map((u) => ({ displayName: u.displayName, model: u.model, source: u.source, usable: false, reason: u.reason }))
      ], null, 2))
    }
    if (rows.length === 0 && unusable.length === 0) {
      return yield* printLine(
        `No models configured (looked in ${loaded.searched.join(", ")}), and no local server found listening.`
      )
    }
    const mark = (r: (typeof rows)[number], e: ModelEntry) => (r.default ? "*" : discovered.includes(e) ? "+" : "")
    // Which file each entry came from (droid's layers, byok's own, a trusted project's), HOME written as ~.
    const home = process.env["HOME"]
    const from = (file: string) => (home !== undefined && home !== "" && file.startsWith(`${home}/`) ? `~${file.slice(home.length)}` : file)
    const header = ["", "NAME", "PROVIDER", "MODEL", "HOST", "CONTEXT", "FROM"]
    const table = [
      header,
      ...rows.map((r, i) => [mark(r, all[i]!), r.displayName, r.provider, r.model, r.host, `${formatWindow(r.context.tokens)} ${r.context.source}`, from(r.source)]),
      ...unusable.map((u) => ["!", u.displayName, "unusable", u.model, "", "", from(u.source)])
    ]
    const widths = header.map((_, c) => Math.max(...table.map((row) => displayWidth(row[c]!))))
    const lines = table.map((row) => row.map((cell, c) => padEnd(cell, widths[c]!)).join("  ").trimEnd())
    if (unusable.length > 0) {
      lines.push("", rows.length === 0 ? "No usable model: every configured entry has a problem (! above):" : "! unusable:")
      for (const u of unusable) lines.push(`  ${u.displayName} (${u.source}): ${u.reason}`)
    }
    yield* printLine(lines.join("\n"))
  }).pipe(withConfig(flags.config, "models"))
