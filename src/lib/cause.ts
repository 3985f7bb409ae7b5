// How a command's work ended, read once from its Cause: stopped (interrupted), stopped because the reader of stdout
// went away, failed with an error, or died of a defect. The ledger's outcome and the exit's report both read it.
import { Cause } from "effect"

export type Ending =
  | { readonly _tag: "Interrupted" }
  /** Writing to stdout failed because its reader went away (`byok exec … | head`): a stop, not an error. */
  | { readonly _tag: "OutputClosed" }
  /** Writing to stdout failed otherwise (a full disk, an I/O error, a closed descriptor): the output is lost. */
  | { readonly _tag: "OutputFailed"; readonly code: string }
  | { readonly _tag: "Failed"; readonly error: unknown }
  | { readonly _tag: "Defect"; readonly defect: unknown }

/** The system error code of a failed write to stdout; undefined for any other error. */
const stdoutWriteError = (error: unknown): string | undefined => {
  const e = error as { _tag?: string; reason?: { module?: string; method?: string; cause?: { code?: unknown } } }
  if (e?._tag !== "PlatformError" || e.reason?.module !== "Stdio" || e.reason?.method !== "stdout") return undefined
  const code = e.reason.cause?.code
  return typeof code === "string" ? code : "EIO"
}

/** The reader is gone: a pipe closed at the other end. */
const READER_GONE = new Set(["EPIPE", "ECONNRESET", "ERR_STREAM_DESTROYED", "ERR_STREAM_WRITE_AFTER_END"])

export const endingOf = (cause: Cause.Cause<unknown>): Ending => {
  if (Cause.hasInterruptsOnly(cause)) return { _tag: "Interrupted" }
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    const code = stdoutWriteError(failure.error)
    if (code === undefined) return { _tag: "Failed", error: failure.error }
    return READER_GONE.has(code) ? { _tag: "OutputClosed" } : { _tag: "OutputFailed", code }
  }
  return { _tag: "Defect", defect: Cause.squash(cause) }
}
