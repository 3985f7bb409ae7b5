// The application: composes the CLI's platform and runs the command tree (main.ts loads it for everything but
// --version and the help pages). Every failure is turned into a message and an exit code by cli/exit.ts, loaded
// only when a command fails; nothing else prints errors.
import { Effect, References, Stdio, Tracer } from "effect"
import { Command } from "effect/cli"
import { normaliseArgs } from "./cli/args.ts"
import { root } from "./cli/commands.ts"
import { presenterLayer } from "./cli/presenter.ts"
import { runMain } from "./cli/signals.ts"
import { platformLayer } from "./cli/platform.ts"
import { term, writeErr } from "./cli/term.ts"
import { restoreSegmenter } from "./lib/segmenter.ts"
import { VERSION_LINE } from "./version.ts"

// The modules have loaded (effect/cli with its deferred segmenter, lib/segmenter.ts): the real one is back.
restoreSegmenter()

const program = Effect.gen(function*() {
  const t = yield* term
  const args = normaliseArgs(process.argv.slice(2))
  if (args._tag !== "Args") {
    const { UsageError } = yield* Effect.promise(() => import("./config/errors.ts"))
    if (args._tag === "Unknown") {
      const did = args.suggestion === undefined
        ? "byok help lists the commands."
        : args.suggestion.startsWith("-")
        ? `Did you mean byok ${args.suggestion}${args.suggestion === "--completions" ? " bash|zsh|fish" : ""}?`
        : `Did you mean byok ${args.help ? "help " : ""}${args.suggestion}?`
      return yield* new UsageError({
        detail: `"${args.word}" is not a byok command${args.help ? "" : "; nothing was sent to a model"}`,
        hint: args.help ? did : `${did} To send it to the model as a message: byok chat ${args.word} … (or byok -- ${args.word} …)`
      })
    }
    if (args._tag === "Unsupported") {
      return yield* new UsageError({
        detail: `byok has no ${args.flag}`,
        hint: "byok help lists the commands, and byok help COMMAND a command's flags, with examples."
      })
    }
    return yield* new UsageError({
      detail: `byok ${args.command} has no ${args.flag}`,
      hint: `Flags go after the command they belong to: byok ${args.command} --help lists them.`
    })
  }
  return yield* Command.runWith(root, { version: VERSION_LINE })(args.args).pipe(
    Effect.provide(presenterLayer(t.color, yield* Stdio.Stdio))
  )
}).pipe(
  Effect.catchCause((cause) =>
    Effect.gen(function*() {
      const t = yield* term
      const { describeCause, ExitCode, formatReport } = yield* Effect.promise(() => import("./cli/exit.ts"))
      const { failureResultJson, printJson } = yield* Effect.promise(() => import("./cli/render.ts"))
      const report = describeCause(cause, t.debug)
      if (!report.silent) yield* writeErr(formatReport(report, t.color))
      // `exec -o json` whose flags effect/cli refused (it printed why): scripts still get their one result object.
      if (report.silent && report.code === ExitCode.usage && wantsJsonResult(process.argv.slice(2))) {
        yield* printJson(failureResultJson(report.code, "UsageError", "invalid arguments (see stderr)")).pipe(Effect.ignore)
      }
      yield* Effect.sync(() => {
        process.exitCode = report.code
      })
    })
  ),
  Effect.provide(platformLayer),
  // byok exports no traces: without this, every Effect.fn call and HTTP request builds a span nobody reads (the
  // HTTP client also walks the URL and every header into it).
  Effect.provideService(References.TracerEnabled, false),
  Effect.provideService(Tracer.DisablePropagation, true)
)

/** `byok exec … -o json` (or stream-json), in any spelling of the flag. */
const wantsJsonResult = (args: ReadonlyArray<string>): boolean => {
  if (!args.includes("exec")) return false
  return args.some((arg, i) =>
    /^(?:--output-format|-o)=(?:json|stream-json)$/.test(arg) ||
    ((arg === "-o" || arg === "--output-format") && (args[i + 1] === "json" || args[i + 1] === "stream-json"))
  )
}

runMain(program)
