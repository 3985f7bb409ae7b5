// byok's entry point. `byok --version` (or -v, or `byok version`) is answered here, before anything else loads;
// everything else loads the application (app.ts) with a dynamic import, which the compiled binary keeps as a
// separate module (build.ts builds with code splitting), so printing the version evaluates no Effect module:
// about 5 ms instead of 20 (bench/run.ts).
import { writeSync } from "node:fs"
import { explainOutputError } from "./explain/output.ts"
import { VERSION_LINE } from "./version.ts"

const args = process.argv.slice(2)
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v" || args[0] === "version")) {
  // As effect/cli prints it (its formatVersion): the name and version in bold, the "v" dim, when stderr is a
  // terminal and NO_COLOR is unset, empty or "0" (cli/term.ts).
  const noColor = process.env["NO_COLOR"]
  const color = process.stderr.isTTY === true && (noColor === undefined || noColor === "" || noColor === "0")
  try {
    writeSync(1, color ? `\x1b[1mbyok\x1b[0m \x1b[2mv\x1b[0m\x1b[1m${VERSION_LINE}\x1b[0m\n` : `byok v${VERSION_LINE}\n`)
  } catch (error) {
    // A reader that went away is a quiet stop; anything else is said, as for an answer.
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
} else {
  await import("./app.ts")
}
