// The OpenAI Responses stream as byok reads it (see PROTOCOLS.md §2). Every payload has `type`.

export interface ResponsesUsage {
  /** Includes cached_tokens (and cache_write_tokens). */
  readonly input_tokens?: number
  readonly input_tokens_details?: { readonly cached_tokens?: number; readonly cache_write_tokens?: number } | null
  /** Includes reasoning_tokens. */
  readonly output_tokens?: number
  readonly output_tokens_details?: { readonly reasoning_tokens?: number } | null
  readonly total_tokens?: number
}

export interface ResponsesObject {
  readonly id?: string
  readonly model?: string
  readonly status?: string
  readonly usage?: ResponsesUsage | null
  readonly incomplete_details?: { readonly reason?: string } | null
  readonly error?: { readonly code?: string; readonly message?: string } | null
  readonly output?: ReadonlyArray<{ readonly type?: string }>
}

/** An output item as `response.output_item.added` / `.done` carry it (messages, calls, reasoning…). */
export interface ResponsesItem {
  readonly type?: string
  readonly id?: string
  readonly call_id?: string
  readonly name?: string
  /** function_call. */
  readonly arguments?: string
  /** custom_tool_call. */
  readonly input?: string
  /** reasoning, with include: ["reasoning.encrypted_content"]. */
  readonly encrypted_content?: string | null
}

export interface ResponsesEvent {
  readonly type?: string
  readonly delta?: string
  /** Where the item is in the output; llama.cpp sends none, only `item_id` (or the item's `id`). */
  readonly output_index?: number
  readonly item_id?: string
  readonly item?: ResponsesItem
  readonly response?: ResponsesObject
  /** The flat `error` event of the spec. */
  readonly code?: string
  readonly message?: string
  /** The nested `error` event seen in real streams. */
  readonly error?: unknown
}
