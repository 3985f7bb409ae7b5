// `byok models`: the configured models (display name, provider, model id, host), never their keys.
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { ConfigService, configWarnings, usableEntries } from "../config/config.ts"
import { configFlag, configLayer } from "./flags.ts"
import { printLine } from "./render.ts"
import { term, warn } from "./term.ts"

const command = Command.make("models", {
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print a JSON array instead of a table"), Flag.withDefault(false)),
  config: configFlag
}, (flags) =>
  Effect.gen(function*() {
    const t = yield* term
    const config = yield* ConfigService
    const loaded = yield* config.load
    // The default is whatever `byok exec` without -m would use.
    const chosen = yield* config.select().pipe(Effect.option)
    const rows = usableEntries(loaded).map((e) => ({
      displayName: e.displayName,
      provider: e.provider,
      model: e.model,
      host: e.endpoint.host,
      baseUrl: e.baseUrl,
      maxOutputTokens: e.maxOutputTokens,
      source: e.source.file,
      default: chosen._tag === "Some" && chosen.value.entry === e
    }))
    for (const w of configWarnings(loaded, undefined)) yield* warn(t, w)
    if (flags.json) return yield* printLine(JSON.stringify(rows, null, 2))
    if (rows.length === 0) {
      return yield* printLine(`No models configured (looked in ${loaded.searched.join(", ")}).`)
    }
    const header = ["", "NAME", "PROVIDER", "MODEL", "HOST"]
    const table = [header, ...rows.map((r) => [r.default ? "*" : "", r.displayName, r.provider, r.model, r.host])]
    const widths = header.map((_, c) => Math.max(...table.map((row) => row[c]!.length)))
    const lines = table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd())
    yield* printLine(lines.join("\n"))
  })).pipe(
    Command.withDescription("List the configured models (* marks the default)"),
    Command.withExamples([
      { command: "byok models", description: "Table of models" },
      { command: "byok models --json | jq -r '.[].displayName'", description: "Names, for scripts" }
    ])
  )

export const models = Command.provide(command, configLayer)
