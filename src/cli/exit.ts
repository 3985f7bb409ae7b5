// A failure → a report for stderr and an exit code. The words come from explain/ (one module per domain); this
// module only decides which explanation applies, the exit code, and how a report is printed.
import { Cause, Data } from "effect"
import * as CliError from "effect/cli/CliError"
import { isConfigError, isUsageError } from "../config/errors.ts"
import { ExitCode, providerExitCode } from "../explain/codes.ts"
import { explainConfigError } from "../explain/config.ts"
import { explainProviderError } from "../explain/provider.ts"
import type { Explanation } from "../explain/report.ts"
import { explainOutputError } from "../explain/output.ts"
import { explainStoreError } from "../explain/store.ts"
import { endingOf } from "../lib/cause.ts"
import { stripControls } from "../lib/controls.ts"
import { StoreError } from "../lib/sqlite.ts"
import { AmbiguousSession } from "../chat/sessions.ts"
import { ProviderError } from "../providers/errors.ts"

export { ExitCode }

/** Ends the program with an exit code and nothing more to say (the command already said it). */
export class QuietExit extends Data.TaggedError("QuietExit")<{ readonly code: number }> {}

export interface Report extends Explanation {
  readonly code: number
  /** Nothing to print: only the exit code is left to set. */
  readonly silent: boolean
}

const silent = (code: number): Report => ({ code, headline: "", lines: [], silent: true })
const loud = (code: number, explanation: Explanation): Report => ({ code, ...explanation, silent: false })

/** The report for an error a command failed with, or undefined for an error byok does not know (a bug). */
export const describeError = (error: unknown): Report | undefined => {
  // effect/cli already printed its parse error.
  if (CliError.isCliError(error)) return silent(ExitCode.usage)
  if (error instanceof QuietExit) return silent(error.code)
  if (error instanceof ProviderError) return loud(providerExitCode(error.reason), explainProviderError(error))
  if (isConfigError(error) || isUsageError(error)) return loud(ExitCode.usage, explainConfigError(error))
  if (error instanceof AmbiguousSession) return loud(ExitCode.usage, explainStoreError(error))
  if (error instanceof StoreError) return loud(ExitCode.store, explainStoreError(error))
  return undefined
}

/** The report for a whole failure: interrupted, the reader of stdout gone (status 0), an error, or a bug. */
export const describeCause = (cause: Cause.Cause<unknown>, debug = false): Report => {
  const ending = endingOf(cause)
  if (ending._tag === "Interrupted") return silent(ExitCode.interrupted)
  if (ending._tag === "OutputClosed") return silent(ExitCode.ok)
  if (ending._tag === "OutputFailed") return loud(ExitCode.other, explainOutputError(ending.code))
  const known = ending._tag === "Failed" ? describeError(ending.error) : undefined
  if (known !== undefined) return known
  // A defect, or an error byok does not know: a bug. No stack trace unless asked for.
  const squashed = ending._tag === "Failed" ? ending.error : ending.defect
  const message = squashed instanceof Error ? squashed.message : String(squashed)
  return loud(ExitCode.other, {
    headline: `Unexpected error: ${message}`,
    lines: debug && squashed instanceof Error && squashed.stack
      ? [squashed.stack]
      : ["This is a bug in byok. Run again with BYOK_DEBUG=1 for details, and please report it."]
  })
}

/**
 * Renders a report for stderr; `color` adds a red "error:" prefix. A report can quote a server (untrusted text):
 * no control sequence in it reaches the terminal.
 */
export const formatReport = (report: Explanation, color: boolean): string => {
  const prefix = color ? "\x1b[31merror:\x1b[0m " : "error: "
  return [prefix + stripControls(report.headline), ...report.lines.map((l) => `  ${stripControls(l)}`)].join("\n") + "\n"
}
