// The Chat Completions chunk as byok reads it. Every field is optional: OpenAI, OpenRouter, DeepSeek, Ollama,
// llama.cpp, vLLM and Gemini's compatibility layer each leave out different ones.

export interface ChatUsage {
  readonly prompt_tokens?: number
  readonly completion_tokens?: number
  readonly total_tokens?: number
  readonly prompt_tokens_details?: { readonly cached_tokens?: number; readonly cache_write_tokens?: number } | null
  readonly completion_tokens_details?: { readonly reasoning_tokens?: number } | null
  /** DeepSeek: hit + miss = prompt_tokens. */
  readonly prompt_cache_hit_tokens?: number
  /** OpenRouter: dollars charged for this request. */
  readonly cost?: number
}

/** llama.cpp server: per-request timings; `cache_n` prompt tokens came from its KV cache. */
export interface LlamaCppTimings {
  readonly cache_n?: number
  readonly prompt_n?: number
}

export interface ChatDelta {
  /** A string; Mistral sends a list of typed parts (`text`, and `thinking` from its reasoning models) instead. */
  readonly content?: string | ReadonlyArray<unknown> | null
  /** DeepSeek, vLLM. */
  readonly reasoning_content?: string | null
  /** OpenRouter, Ollama. */
  readonly reasoning?: string | null
  readonly refusal?: string | null
  /**
   * Tool calls, in fragments grouped by `index`: `id`, `type` and `function.name` in the first, then pieces of
   * `function.arguments` to join. Ollama sends each call whole in one fragment.
   */
  readonly tool_calls?: ReadonlyArray<{
    readonly index?: number
    readonly id?: string | null
    readonly type?: string | null
    readonly function?: { readonly name?: string | null; readonly arguments?: string | null } | null
  }> | null
}

export interface ChatChunk {
  readonly id?: string
  readonly model?: string
  readonly choices?: ReadonlyArray<{
    readonly index?: number
    readonly delta?: ChatDelta | null
    /** Non-streaming responses (a server that ignored `stream: true`). */
    readonly message?: ChatDelta | null
    readonly finish_reason?: string | null
  }> | null
  readonly usage?: ChatUsage | null
  readonly timings?: LlamaCppTimings
  /** In-band errors: OpenAI/SGLang `{"error":{…}}`, OpenRouter chunk-level error, vLLM `{"object":"error"}`. */
  readonly error?: unknown
  readonly object?: string
}
