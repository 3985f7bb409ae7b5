// `byok doctor`: runs the troubleshooting checks for every configured model (or the one -m names) and prints one
// line per check, ✓ ! or ✗, with the fix. Its exit code is that of the first failure: 2 config, 3 key, 4 rate
// limit, 5 connection, 1 anything else.
import { Effect, Option, Stream } from "effect"
import { ConfigService, type EntryRecord, type Selected } from "../config/config.ts"
import { type Check, dataFileChecks, diagnose, type ModelReport } from "../doctor/doctor.ts"
import { dataPlace } from "../lib/sqlite.ts"
import { existsSync } from "node:fs"
import type { DoctorInput } from "./inputs.ts"
import { QuietExit } from "./exit.ts"
import { telemetrySettings, timeoutSetting, withConfig } from "./services.ts"
import { offlineChecks, telemetryChecks } from "../doctor/reach.ts"
import { offlinePolicy } from "../lib/offline.ts"
import { Network } from "../lib/network.ts"
import { printJson, printLine } from "./render.ts"
import { term } from "./term.ts"
import { fixFor, openHub } from "../mcp/open.ts"
import { riskOfAnnotations, statusOf } from "../mcp/hub.ts"
import { stripControls } from "../lib/controls.ts"
import { Redactor } from "../lib/redact.ts"
import { openSandbox } from "../conversation/sandbox.ts"
import { describe as describeSandbox } from "../sandbox/sandbox.ts"

/** How many models are checked at once. */
const CONCURRENT_CHECKS = 4

const MARKS = { ok: "✓", warn: "!", fail: "✗", skip: "-" } as const
const COLOURS = { ok: "\x1b[32m", warn: "\x1b[33m", fail: "\x1b[31m", skip: "\x1b[2m" } as const

const render = (report: ModelReport, color: boolean): string => {
  const width = Math.max(...report.checks.map((c) => c.name.length))
  const paint = (c: Check, s: string) => (color ? `${COLOURS[c.status]}${s}\x1b[0m` : s)
  return [
    color ? `\x1b[1m${report.model}\x1b[22m` : report.model,
    ...report.checks.flatMap((c) => [
      `  ${paint(c, MARKS[c.status])} ${c.name.padEnd(width)}  ${c.detail}`,
      ...(c.fix !== undefined && c.status !== "ok" ? [`    ${" ".repeat(width)}  ${color ? "\x1b[2m" : ""}fix: ${c.fix}${color ? "\x1b[22m" : ""}`] : [])
    ])
  ].join("\n")
}

const shorten = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

export const runDoctor = (flags: DoctorInput) =>
  Effect.gen(function*() {
    const t = yield* term
    const config = yield* ConfigService
    const loaded = yield* config.load
    let records: ReadonlyArray<EntryRecord> = loaded.entries
    if (Option.isSome(flags.model)) {
      const chosen = yield* config.select({ name: flags.model.value }).pipe(Effect.option)
      const wanted = flags.model.value.toLowerCase()
      records = chosen._tag === "Some"
        ? loaded.entries.filter((r) => r.entry === chosen.value.entry)
        : loaded.entries.filter((r) => r.name?.toLowerCase() === wanted)
      // Neither a usable nor a broken entry of that name: select says why (unknown model, did you mean).
      if (records.length === 0) yield* config.select({ name: flags.model.value })
    } else if (records.length === 0) {
      yield* config.select()
    }
    const reports: Array<ModelReport> = []
    // byok's own files: whether others can read them (made private if they can), looked at before the checks
    // below open the ledger (which tightens it too) and reported after the models.
    const place = yield* dataPlace
    const files = place._tag === "Directory" && existsSync(place.path)
      ? { model: "byok's files", checks: dataFileChecks(place.path) }
      : undefined
    const timeout = yield* timeoutSetting(flags.timeout)
    // A few models at a time, so that one hung server does not add its wait to every other's; each report is
    // printed in config order as soon as it and those before it are done.
    yield* Stream.fromIterable(records).pipe(
      Stream.mapEffect((record) =>
        Effect.gen(function*() {
          const selected: Selected | undefined = record.entry !== undefined
            ? yield* config.select({ name: record.name ?? record.entry.displayName }).pipe(Effect.orElseSucceed(() => undefined))
            : undefined
          return yield* diagnose(record, selected, { cache: flags.cache, timeout })
        }), { concurrency: CONCURRENT_CHECKS }),
      Stream.runForEach((report) =>
        Effect.gen(function*() {
          reports.push(report)
          if (!flags.json) yield* printLine(`${render(report, t.stdoutIsTty && t.color)}\n`)
        }))
    )
    const mcpServers: Array<{ readonly name: string; readonly url: string | undefined }> = []
    // MCP servers (unless one model was asked for): each started, its tools listed, or the fix.
    if (Option.isNone(flags.model)) {
      // Its configuration problems are checks of the report, not warnings besides.
      const hub = yield* Effect.acquireRelease(openHub(loaded, () => Effect.void), (h) => h.close)
      if (hub.states.length > 0 || hub.issues.length > 0) {
        const checks: Array<Check> = hub.issues.map((issue) => ({ name: "config", status: "warn", detail: issue }))
        yield* Effect.forEach(hub.states, (state) => state.server.disabled ? Effect.void : hub.start(state), { concurrency: CONCURRENT_CHECKS, discard: true })
        for (const state of hub.states) {
          mcpServers.push({ name: state.server.name, url: state.server.url })
          const tools = state.tools ?? []
          const read = tools.filter((x) => riskOfAnnotations(x.annotations).risk === "read").length
          checks.push(
            state.server.disabled
              ? { name: state.server.name, status: "skip", detail: `disabled in ${state.server.source.path}` }
              : statusOf(state) === "failed"
              ? { name: state.server.name, status: "fail", detail: stripControls(state.error ?? "failed"), fix: stripControls(fixFor(state)), code: 1 }
              : {
                name: state.server.name,
                status: "ok",
                detail: `${state.server.type}, ${tools.length} tools (${read} read-only)${tools.length > 0 ? `: ${shorten(stripControls(tools.map((x) => x.name).join(", ")), 160)}` : ""}`
              }
          )
        }
        const report = { model: "MCP servers", checks }
        reports.push(report)
        if (!flags.json) yield* printLine(`${render(report, t.stdoutIsTty && t.color)}\n`)
      }
    }
    // The sandbox commands run in (unless one model was asked for): what the OS offers and what each level gets.
    if (Option.isNone(flags.model)) {
      const box = yield* openSandbox(loaded, yield* Redactor)
      const level = loaded.autonomy ?? "low"
      const [means, ...rest] = describeSandbox(box, level, process.cwd())
      const missing = box.status.kind === "none" && box.settings.mode !== "off"
      const report: ModelReport = {
        model: "Sandbox",
        checks: [
          {
            name: "sandbox",
            status: missing ? (box.settings.mode === "auto" ? "warn" : "fail") : box.settings.mode === "off" ? "warn" : "ok",
            detail: means!.replace(/^sandbox: /, ""),
            fix: missing
              ? "Linux 5.13 or later with Landlock among its LSMs (lsm=…,landlock), or macOS; until then commands below --auto high are checked by their words only"
              : 'sandbox: "auto" in ~/.factory/settings.json turns it back on',
            code: 1
          },
          ...rest.map((line, i): Check => ({ name: i === rest.length - 1 ? "environment" : `level ${level}`, status: "ok", detail: line.replace(/^environment: /, "") }))
        ]
      }
      reports.push(report)
      if (!flags.json) yield* printLine(`${render(report, t.stdoutIsTty && t.color)}\n`)
    }
    // Where telemetry goes, when it is set: each endpoint sent an empty export.
    const telemetry = yield* telemetrySettings
    if (telemetry !== undefined) {
      const report: ModelReport = { model: "Telemetry", checks: yield* telemetryChecks(telemetry.settings, telemetry.problems) }
      reports.push(report)
      if (!flags.json) yield* printLine(`${render(report, t.stdoutIsTty && t.color)}\n`)
    }
    // Offline mode: what it lets through and what it refuses.
    const offline = offlinePolicy()
    if (offline.on) {
      const report: ModelReport = { model: "Offline", checks: offlineChecks(offline, loaded, mcpServers, telemetry?.settings, yield* Network) }
      reports.push(report)
      if (!flags.json) yield* printLine(`${render(report, t.stdoutIsTty && t.color)}\n`)
    }
    if (files !== undefined) {
      reports.push(files)
      if (!flags.json) yield* printLine(`${render(files, t.stdoutIsTty && t.color)}\n`)
    }
    if (flags.json) yield* printJson(reports)
    const failed = reports.flatMap((r) => r.checks).find((c) => c.status === "fail")
    if (failed !== undefined) return yield* new QuietExit({ code: failed.code ?? 1 })
  }).pipe(Effect.scoped, withConfig(flags.config, "doctor", { offline: flags.offline }))
