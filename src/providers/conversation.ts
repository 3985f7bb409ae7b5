// The conversation model shared by all three wire formats: an optional system prompt and alternating user and
// assistant turns. Each format lowers it to its own request body in its request.ts.
import type { Duration } from "effect"
import type { ModelEntry } from "../config/schema.ts"

export interface Turn {
  readonly role: "user" | "assistant"
  readonly content: string
}

export interface Conversation {
  /** Stable per conversation: used as OpenAI's prompt_cache_key and as the ledger's conversation id. */
  readonly id: string
  readonly system: string | undefined
  readonly turns: ReadonlyArray<Turn>
}

/** One call to a model: which entry, what to send, and the output cap for this call. */
export interface LlmRequest {
  readonly model: ModelEntry
  readonly conversation: Conversation
  readonly maxOutputTokens: number
  /** How long to wait for the response headers. */
  readonly timeout: Duration.Input
}
