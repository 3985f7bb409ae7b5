// Chat Completions usage → normalised Usage. `prompt_tokens` includes the cached tokens (OpenAI, OpenRouter,
// DeepSeek, Gemini); `completion_tokens` includes reasoning tokens.
import { makeUsage, type Usage } from "../event.ts"
import type { ChatUsage, LlamaCppTimings } from "./wire.ts"

export const normaliseUsage = (usage: ChatUsage, timings: LlamaCppTimings | undefined): Usage => {
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
    output: usage.completion_tokens,
    reasoning: usage.completion_tokens_details?.reasoning_tokens,
    native: usage,
    reportedCost: usage.cost
  })
}
