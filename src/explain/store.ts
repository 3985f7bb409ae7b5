// byok's own files (the cost ledger, saved sessions) in words: what a store that cannot be used costs the user,
// and how to fix it.
import type { AmbiguousSession } from "../chat/sessions.ts"
import type { StoreError } from "../lib/sqlite.ts"
import type { Explanation } from "./report.ts"

const fixFor = (error: StoreError): string =>
  error.kind === "locked"
    ? "another program holds it locked; close it (e.g. an open sqlite3 shell)"
    : error.kind === "readonly"
    ? "it cannot be written there; fix the permissions, or set BYOK_HOME to a writable directory"
    : error.kind === "corrupt"
    ? `it is damaged; move ${error.path} aside and byok starts a new one`
    : error.kind === "newer"
    ? "it was written by a newer byok; update byok"
    : "check that its directory can be written, or set BYOK_HOME to another directory"

/** Said once when there is nowhere to record: no BYOK_HOME, XDG_DATA_HOME or HOME (a bare container). */
export const NOWHERE =
  "nothing is recorded (cost ledger, conversations): neither BYOK_HOME, XDG_DATA_HOME nor HOME is set; " +
  "set BYOK_HOME to a writable directory to keep them, or BYOK_NO_RECORD=1 to say you mean it"

/**
 * One line for a store that could not be used while the command went on: what it cost the user (`consequence`,
 * e.g. "this request was not recorded in the cost ledger") and how to fix it.
 */
export const explainStoreWarning = (error: StoreError, consequence: string): string =>
  `${consequence} ${error.path} (${error.detail}): ${fixFor(error)}`

/** A store the command could not do without (byok cost, byok sessions, resuming a conversation). */
export const explainStoreError = (error: StoreError | AmbiguousSession): Explanation =>
  error._tag === "AmbiguousSession"
    ? { headline: error.message, lines: ["`byok sessions` lists them."] }
    : { headline: `Cannot use ${error.path}: ${error.detail}`, lines: [`Fix: ${fixFor(error)}.`] }
