// The conversation model shared by all three wire formats: an optional system prompt and alternating user and
// assistant turns. Each format lowers it to its own request body in its request.ts.
import type { Duration, Effect } from "effect"
import type { ModelEntry } from "../config/schema.ts"
import type { ProviderError } from "./errors.ts"

export interface Turn {
  readonly role: "user" | "assistant"
  readonly content: string
}

export interface Conversation {
  /** The conversation's id (ledger, sessions). */
  readonly id: string
  readonly system: string | undefined
  readonly turns: ReadonlyArray<Turn>
}

/** One call to a model: which entry, what to send, and the output cap for this call. */
export interface LlmRequest {
  readonly model: ModelEntry
  readonly conversation: Conversation
  readonly maxOutputTokens: number
  /** How long to wait for the answer to start, and for each next piece of it. */
  readonly timeouts: Timeouts
  /** How many times to try again after a retryable failure before any output (default 2, as the SDKs). */
  readonly maxRetries?: number
  /** Told before each retry, e.g. to say so on stderr. */
  readonly onRetry?: (info: RetryInfo) => Effect.Effect<void>
}

/** byok's own limits on waiting for a server (Bun's fetch has none that fit: its 5-minute socket idle timer). */
export interface Timeouts {
  /** From sending the request to the answer's first byte: connecting, the response headers, the first event. */
  readonly firstByte: Duration.Duration
  /** Between two pieces of the answer once it streams. */
  readonly idle: Duration.Duration
}

export interface RetryInfo {
  readonly error: ProviderError
  /** 1 for the first retry. */
  readonly attempt: number
  readonly maxRetries: number
  readonly delay: Duration.Duration
}

/**
 * OpenAI's prompt_cache_key: requests with the same key and prefix are routed to the same cache. Derived from what
 * starts the conversation (model, system prompt, first user turn), it stays the same as a conversation grows and is
 * shared by repeated runs of the same prompt, where a random id per run would scatter them across caches.
 */
export const promptCacheKey = (request: LlmRequest): string => {
  const first = request.conversation.turns.find((t) => t.role === "user")?.content ?? ""
  const seed = `${request.model.model}\u0000${request.conversation.system ?? ""}\u0000${first}`
  return `byok-${Bun.hash(seed).toString(36)}`
}
