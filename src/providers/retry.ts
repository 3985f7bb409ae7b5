// When to try a request again, after how long, and the loop that does it: the policy of the official SDKs
// (PROTOCOLS.md §4), applied only before any of the answer has been shown. Whether a failure is worth retrying at
// all is the error's own `retryable`; this module adds only the timing.
import { Duration, Effect, Random } from "effect"
import type { RetryInfo } from "./conversation.ts"
import type { ProviderError } from "./errors.ts"

export const DEFAULT_MAX_RETRIES = 2

/** A server's retry-after beyond this is not waited for: the error says how long instead. */
const MAX_RETRY_AFTER_SECONDS = 60

/**
 * The delay before retry number `attempt` (1 for the first retry), or undefined when the error is not worth
 * retrying (see each reason's `retryable`) or asks for a retry-after longer than a minute. `random` is in [0, 1).
 */
export const retryDelay = (error: ProviderError, attempt: number, random: number): Duration.Duration | undefined => {
  const reason = error.reason
  if (!error.retryable) return undefined
  if (reason._tag === "RateLimitError" && reason.retryAfter !== undefined) {
    return reason.retryAfter <= MAX_RETRY_AFTER_SECONDS ? Duration.seconds(reason.retryAfter) : undefined
  }
  const backoff = Math.min(0.5 * 2 ** (attempt - 1), 8) * (1 - random * 0.25)
  return Duration.millis(Math.round(backoff * 1000))
}

/**
 * Runs `attemptOnce`, and after a retryable failure waits (retry-after, else backoff) and runs it again, up to
 * `maxRetries` times. Only the sending is retried: once the answer streams, a failure is the caller's to see.
 */
export const withRetries = <A>(
  attemptOnce: Effect.Effect<A, ProviderError>,
  maxRetries: number,
  onRetry: ((info: RetryInfo) => Effect.Effect<void>) | undefined
): Effect.Effect<A, ProviderError> => {
  const loop = (attempt: number): Effect.Effect<A, ProviderError> =>
    attemptOnce.pipe(
      Effect.catch((error) =>
        Effect.flatMap(Random.next, (random) => {
          const delay = attempt <= maxRetries ? retryDelay(error, attempt, random) : undefined
          if (delay === undefined) return Effect.fail(error)
          return (onRetry?.({ error, attempt, maxRetries, delay }) ?? Effect.void).pipe(
            Effect.andThen(Effect.sleep(delay)),
            Effect.andThen(loop(attempt + 1))
          )
        })
      )
    )
  return loop(1)
}
