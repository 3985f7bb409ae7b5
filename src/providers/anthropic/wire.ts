// The Anthropic Messages stream as byok reads it (see PROTOCOLS.md §1). Fields are optional: compatible servers
// (proxies, gateways) leave some out.

export interface AnthropicUsage {
  /** Only the uncached input after the last cache breakpoint. */
  readonly input_tokens?: number | null
  readonly cache_creation_input_tokens?: number | null
  readonly cache_read_input_tokens?: number | null
  readonly cache_creation?: {
    readonly ephemeral_5m_input_tokens?: number | null
    readonly ephemeral_1h_input_tokens?: number | null
  } | null
  /** Includes thinking tokens. */
  readonly output_tokens?: number | null
  readonly output_tokens_details?: { readonly thinking_tokens?: number | null } | null
}

export interface AnthropicEvent {
  readonly type?: string
  readonly message?: {
    readonly id?: string
    readonly model?: string
    readonly usage?: AnthropicUsage
    /** Usually null here; some streams (a whole tool call) already say it in message_start. */
    readonly stop_reason?: string | null
    /** Usually empty here; programmatic tool calling sends the whole message in message_start. */
    readonly content?: ReadonlyArray<AnthropicBlock>
  }
  readonly index?: number
  /** content_block_start: the block's type, and for a tool call its id, name and (often empty) input. */
  readonly content_block?: AnthropicBlock
  readonly delta?: {
    readonly type?: string
    readonly text?: string
    readonly thinking?: string
    readonly partial_json?: string
    readonly signature?: string
    readonly stop_reason?: string | null
  }
  readonly usage?: AnthropicUsage
  readonly error?: unknown
}

/** A content block, as content_block_start opens it or a whole message holds it. */
export interface AnthropicBlock {
  readonly type?: string
  readonly id?: string
  readonly name?: string
  readonly input?: unknown
  /** text blocks. */
  readonly text?: string
  /** thinking blocks. */
  readonly thinking?: string
  /** redacted_thinking. */
  readonly data?: string
  readonly signature?: string
}
