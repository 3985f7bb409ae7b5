// byok's entry point. `byok --version` and the help pages (`--help`, `help exec`, `exec --help`…) are answered
// here, before anything else loads; everything else loads the application (app.ts) with a dynamic import, which
// the compiled binary keeps as a module of its own (build.ts builds with code splitting). Printing the version or
// a help page evaluates no Effect module: about 5 ms instead of 20 (bench/run.ts). Both are rendered by effect/cli's
// formatter when the binary is built (cli/help.ts); from source, effect/cli renders them as it runs.
import { writeSync } from "node:fs"
import { helpAskedFor } from "./cli/args.ts"
import { explainOutputError } from "./explain/output.ts"
import { isSet } from "./lib/flag.ts"
import { deferSegmenter } from "./lib/segmenter.ts"

/** A page as the entry prints it: rendered by effect/cli's formatter at build time, with colour and without. */
type Page = { readonly plain: string; readonly color: string }
declare const BYOK_HELP: Readonly<Record<string, Page>> | undefined
declare const BYOK_VERSION_PAGE: Page | undefined

/** Writes what the entry answers; a failure is said as for an answer, but a reader that went away is a quiet stop. */
const answer = (text: string) => {
  try {
    writeSync(1, text)
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? "EIO")
    if (code !== "EPIPE") {
      try {
        writeSync(2, `error: ${explainOutputError(code).headline}\n`)
      } catch {
        // stderr is gone too: the exit code still says it
      }
      process.exitCode = 1
    }
  }
}

const args = process.argv.slice(2)
// As effect/cli's output is coloured (cli/term.ts): when stderr is a terminal and NO_COLOR is not set.
const color = process.stderr.isTTY === true && !isSet(process.env["NO_COLOR"])
const versionAsked = args.length === 1 && (args[0] === "--version" || args[0] === "-v" || args[0] === "version")
const page = versionAsked
  ? (typeof BYOK_VERSION_PAGE === "object" ? BYOK_VERSION_PAGE : undefined)
  : typeof BYOK_HELP === "object"
  ? BYOK_HELP[helpAskedFor(args) ?? "\0"]
  : undefined

if (args[0] === "__sandbox") {
  // A command byok runs for a model, to be sandboxed (sandbox/enter.ts): nothing else of byok loads.
  await import("./sandbox/enter.ts")
} else if (page !== undefined) {
  answer(color ? page.color : page.plain)
} else {
  deferSegmenter()
  await import("./app.ts")
}
