// How a command's work ended, read once from its Cause: stopped (interrupted), stopped because the reader of stdout
// went away, failed with an error, or died of a defect. The ledger's outcome and the exit's report both read it.
import { Cause } from "effect"

export type Ending =
  | { readonly _tag: "Interrupted" }
  /** Writing to stdout failed because its reader went away (`byok exec … | head`): a stop, not an error. */
  | { readonly _tag: "OutputClosed" }
  | { readonly _tag: "Failed"; readonly error: unknown }
  | { readonly _tag: "Defect"; readonly defect: unknown }

const isStdoutClosed = (error: unknown): boolean => {
  const e = error as { _tag?: string; reason?: { module?: string; method?: string } }
  return e?._tag === "PlatformError" && e.reason?.module === "Stdio" && e.reason?.method === "stdout"
}

export const endingOf = (cause: Cause.Cause<unknown>): Ending => {
  if (Cause.hasInterruptsOnly(cause)) return { _tag: "Interrupted" }
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    return isStdoutClosed(failure.error) ? { _tag: "OutputClosed" } : { _tag: "Failed", error: failure.error }
  }
  return { _tag: "Defect", defect: Cause.squash(cause) }
}
