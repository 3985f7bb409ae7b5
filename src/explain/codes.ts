// byok's exit codes, and the one for each kind of provider failure: cli/exit.ts ends the program with them, and
// the doctor exits with the code of its first failed check.
import type { ProviderErrorReason } from "../providers/errors.ts"

export const ExitCode = {
  ok: 0,
  other: 1,
  usage: 2,
  auth: 3,
  rateLimit: 4,
  connection: 5,
  store: 6,
  /** exec --auto: the work stopped at a tool call the autonomy level refused. */
  permission: 7,
  interrupted: 130
} as const

const PROVIDER_CODES: Record<ProviderErrorReason["_tag"], number> = {
  // The fix is base_url: a config error.
  RedirectRefused: ExitCode.usage,
  AuthenticationError: ExitCode.auth,
  RateLimitError: ExitCode.rateLimit,
  ConnectionError: ExitCode.connection,
  ModelNotFound: ExitCode.other,
  ContextLengthExceeded: ExitCode.other,
  InvalidRequestError: ExitCode.other,
  ProviderInternalError: ExitCode.other,
  InvalidResponseError: ExitCode.other
}

/** The exit code for a provider failure. */
export const providerExitCode = (reason: ProviderErrorReason): number => PROVIDER_CODES[reason._tag]

/** The exit codes as `--help` shows them (effect/cli indents only a description's first line). */
export const EXIT_CODES_HELP = [
  "  Exit codes: 0 ok, 1 other error, 2 usage or config error, 3 authentication,",
  "  4 rate limit or quota, 5 connection or timeout, 6 byok's own files (ledger, sessions),",
  "  7 a tool call the --auto level refused stopped the work, 130 interrupted."
].join("\n")
