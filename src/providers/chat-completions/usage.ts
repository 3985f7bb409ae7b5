// Chat Completions usage → normalised Usage. `prompt_tokens` includes the cached tokens (OpenAI, OpenRouter,
// DeepSeek, Gemini); `completion_tokens` includes reasoning tokens, except at xAI (reasoningApart).
import { makeUsage, type Usage } from "../event.ts"
import type { ChatUsage, LlamaCppTimings } from "./wire.ts"

/**
 * Whether the reasoning tokens come on top of completion_tokens (xAI) rather than inside them (OpenAI): said by
 * the vendor's quirk, or shown by the numbers: more reasoning than completion, or a total_tokens that adds the
 * reasoning to prompt and completion.
 */
const reasoningApart = (usage: ChatUsage, apart: boolean): boolean => {
  const reasoning = usage.completion_tokens_details?.reasoning_tokens
  if (typeof reasoning !== "number" || reasoning <= 0) return false
  if (apart) return true
  const completion = typeof usage.completion_tokens === "number" ? usage.completion_tokens : 0
  const prompt = typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : 0
  return reasoning > completion || (usage.total_tokens !== undefined && usage.total_tokens === prompt + completion + reasoning)
}

export const normaliseUsage = (usage: ChatUsage, timings: LlamaCppTimings | undefined, apart = false): Usage => {
  const details = usage.prompt_tokens_details ?? undefined
  let total: unknown = usage.prompt_tokens
  // Cache hits: the OpenAI field, else DeepSeek's, else llama.cpp's timings. llama.cpp builds differ on whether
  // prompt_tokens counts the cached part, so the prompt is at least prompt_n + cache_n.
  let cacheRead: unknown = details?.cached_tokens ?? usage.prompt_cache_hit_tokens
  if (cacheRead === undefined && timings?.cache_n !== undefined) {
    cacheRead = timings.cache_n
    const processed = (timings.prompt_n ?? 0) + timings.cache_n
    if (typeof total !== "number" || total < processed) total = processed
  }
  return makeUsage({
    inclusiveTotal: total ?? 0,
    cacheRead,
    // OpenRouter reports writes to an upstream (Anthropic) cache as part of prompt_tokens.
    cacheWrite: details?.cache_write_tokens,
    output: reasoningApart(usage, apart)
      ? (usage.completion_tokens ?? 0) + (usage.completion_tokens_details?.reasoning_tokens ?? 0)
      : usage.completion_tokens,
    reasoning: usage.completion_tokens_details?.reasoning_tokens,
    native: usage,
    reportedCost: usage.cost
  })
}
