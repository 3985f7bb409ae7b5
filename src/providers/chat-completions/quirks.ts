// Per-vendor deviations from the Chat Completions contract, one line per vendor, matched on the base URL's host.
// Anything not listed gets the defaults, which are what local servers (Ollama, llama.cpp, vLLM) accept.
import type { ModelEntry, ReasoningEffort } from "../../config/schema.ts"
import { callIdFor } from "../conversation.ts"
import { localServerOf } from "../local.ts"

export interface ChatQuirks {
  /** The output-cap field. Ollama silently ignores `max_completion_tokens`, so `max_tokens` is the default. */
  readonly maxTokensField: "max_tokens" | "max_completion_tokens"
  /** Whether to send `stream_options.include_usage` (needed for usage on OpenAI, vLLM, Ollama). */
  readonly streamOptions: boolean
  /** Whether the host honours `prompt_cache_key` (OpenAI routes requests with the same key to a warm cache). */
  readonly promptCacheKey: boolean
  /** Whether to mark cache breakpoints with Anthropic-style `cache_control` content parts. */
  readonly cacheControl: boolean
  /**
   * Whether `completion_tokens_details.reasoning_tokens` comes on top of `completion_tokens` instead of inside it
   * (OpenAI's meaning). Where the numbers show it (reasoning above completion, or a total_tokens that counts it
   * apart) usage.ts sees it without the table.
   */
  readonly reasoningApart: boolean
  /** A call id as the vendor takes it (the same for a call and its result); most take any text. */
  readonly callId: (id: string) => string
}

const DEFAULTS: ChatQuirks = {
  maxTokensField: "max_tokens",
  streamOptions: true,
  promptCacheKey: false,
  cacheControl: false,
  reasoningApart: false,
  callId: (id) => id
}

const TABLE: ReadonlyArray<{
  readonly vendor: string
  readonly host: RegExp
  readonly model?: RegExp
  readonly quirks: Partial<ChatQuirks>
}> = [
  // OpenAI: reasoning models (o-series, gpt-5) reject the deprecated max_tokens with 400 unsupported_parameter.
  { vendor: "OpenAI", host: /^api\.openai\.com$/, quirks: { maxTokensField: "max_completion_tokens", promptCacheKey: true } },
  // Azure OpenAI: same models, same rule.
  { vendor: "Azure OpenAI", host: /\.openai\.azure\.com$/, quirks: { maxTokensField: "max_completion_tokens" } },
  // Mistral: strict validation answers 422 extra_forbidden to stream_options; usage comes anyway.
  // Mistral: also, call ids are exactly nine letters or digits; others' ids (call_…, toolu_…) are refused.
  { vendor: "Mistral", host: /^api\.mistral\.ai$/, quirks: { streamOptions: false, callId: (id) => callIdFor(id, { pattern: /^[A-Za-z0-9]+$/, length: 9 }) } },
  // xAI (Grok): completion_tokens leaves reasoning out; reasoning_tokens are billed as output on top of it.
  { vendor: "xAI", host: /^api\.x\.ai$/, quirks: { reasoningApart: true } },
  // llama.cpp: tool-call ids are 32 random characters without "call_"; kept as they are (every API takes them).
  // Ollama: each tool call arrives whole in one fragment, and the finish reason may be "stop" with calls
  // (stream.ts finishes any answer with calls as tool-calls); no row needed.
  // OpenRouter: caches Anthropic and Gemini prompts only where cache_control marks them, and passes the marks on.
  { vendor: "OpenRouter", host: /^openrouter\.ai$/, model: /^(anthropic|google)\//, quirks: { cacheControl: true } }
]

export const quirksFor = (entry: Pick<ModelEntry, "endpoint" | "model">): ChatQuirks => {
  const host = entry.endpoint.hostname.toLowerCase()
  const model = entry.model
  const row = TABLE.find((r) => r.host.test(host) && (r.model === undefined || r.model.test(model)))
  return row ? { ...DEFAULTS, ...row.quirks } : DEFAULTS
}

/**
 * The fields that ask a Chat Completions server for a reasoning effort, by vendor: OpenAI's `reasoning_effort`
 * (the default); OpenRouter's `reasoning.effort`; Ollama's `think` (on or off); and llama.cpp's and vLLM's
 * `chat_template_kwargs.enable_thinking`, which Qwen3-style templates read. "off" (or nothing) sends nothing.
 */
export const reasoningFields = (entry: ModelEntry, effort: ReasoningEffort | undefined): Record<string, unknown> => {
  if (effort === undefined || effort === "off") return {}
  const thinking = effort !== "none"
  const host = entry.endpoint.hostname.toLowerCase()
  if (host === "openrouter.ai") return { reasoning: thinking ? { effort } : { effort: "none" } }
  switch (localServerOf(entry)?.kind) {
    case "ollama":
      return { think: thinking }
    case "llama.cpp":
    case "vllm":
      return { chat_template_kwargs: { enable_thinking: thinking } }
  }
  return { reasoning_effort: effort }
}
