// When to try a request again, and after how long: the policy of the official SDKs (PROTOCOLS.md §4), applied
// only before any of the answer has been shown. A pure function of the error and the attempt, so that it can be
// tested without waiting.
import { Duration } from "effect"
import type { ProviderError } from "./errors.ts"

export const DEFAULT_MAX_RETRIES = 2

/** A server's retry-after beyond this is not waited for: the error says how long instead. */
const MAX_RETRY_AFTER_SECONDS = 60

/**
 * The delay before retry number `attempt` (1 for the first retry), or undefined when the error is not worth
 * retrying: not retryable (authentication, a bad request, an exhausted quota), a connection refused (nothing is
 * listening: start the server), a name that does not resolve or a TLS failure (retrying will not fix them), or a
 * retry-after longer than a minute. `random` is in [0, 1).
 */
export const retryDelay = (error: ProviderError, attempt: number, random: number): Duration.Duration | undefined => {
  const reason = error.reason
  if (!error.retryable) return undefined
  if (reason._tag === "ConnectionError" && ["refused", "dns", "tls"].includes(reason.kind)) return undefined
  if (reason._tag === "RateLimitError" && reason.retryAfter !== undefined) {
    return reason.retryAfter <= MAX_RETRY_AFTER_SECONDS ? Duration.seconds(reason.retryAfter) : undefined
  }
  const backoff = Math.min(0.5 * 2 ** (attempt - 1), 8) * (1 - random * 0.25)
  return Duration.millis(Math.round(backoff * 1000))
}
