// byok's entry point. `byok --version` and the help pages (`--help`, `help exec`, `exec --help`…) are answered
// here, before anything else loads; everything else loads the application (app.ts) with a dynamic import, which
// the compiled binary keeps as a module of its own (build.ts builds with code splitting). Printing the version or
// a help page evaluates no Effect module: about 5 ms instead of 20 (bench/run.ts). The help pages are rendered by
// effect/cli when the binary is built (cli/help.ts); from source, effect/cli renders them as it runs.
import { writeSync } from "node:fs"
import { helpAskedFor } from "./cli/args.ts"
import { explainOutputError } from "./explain/output.ts"
import { isSet } from "./lib/flag.ts"
import { deferSegmenter } from "./lib/segmenter.ts"
import { VERSION_LINE } from "./version.ts"

declare const BYOK_HELP: Readonly<Record<string, { readonly plain: string; readonly color: string }>> | undefined

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
const help = typeof BYOK_HELP === "object" ? BYOK_HELP[helpAskedFor(args) ?? "\0"] : undefined

if (args.length === 1 && (args[0] === "--version" || args[0] === "-v" || args[0] === "version")) {
  // effect/cli's formatVersion: the name and version in bold, the "v" dim.
  answer(color ? `\x1b[1mbyok\x1b[0m \x1b[2mv\x1b[0m\x1b[1m${VERSION_LINE}\x1b[0m\n` : `byok v${VERSION_LINE}\n`)
} else if (help !== undefined) {
  answer(color ? help.color : help.plain)
} else {
  deferSegmenter()
  await import("./app.ts")
}
