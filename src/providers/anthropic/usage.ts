// Anthropic usage → normalised Usage. `input_tokens` excludes the cache: total input = input + cache creation +
// cache read. Cache writes are split into 5-minute and 1-hour where the API says so.
import { makeUsage, type Usage } from "../event.ts"
import type { AnthropicUsage } from "./wire.ts"

export const normaliseUsage = (u: AnthropicUsage): Usage =>
  makeUsage({
    uncached: u.input_tokens,
    cacheRead: u.cache_read_input_tokens,
    cacheWrite: u.cache_creation_input_tokens ??
      ((u.cache_creation?.ephemeral_5m_input_tokens ?? 0) + (u.cache_creation?.ephemeral_1h_input_tokens ?? 0)),
    cacheWrite1h: u.cache_creation?.ephemeral_1h_input_tokens,
    output: u.output_tokens,
    reasoning: u.output_tokens_details?.thinking_tokens,
    native: u
  })

/**
 * `message_delta.usage` holds cumulative totals: each counter it carries replaces the one from `message_start`
 * (overwrite, never add); a null or missing counter keeps the earlier value.
 */
export const mergeUsage = (base: AnthropicUsage | undefined, update: AnthropicUsage): AnthropicUsage => {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(update)) if (v !== null && v !== undefined) out[k] = v
  return out as AnthropicUsage
}
