// Responses usage → normalised Usage. `input_tokens` includes `cached_tokens` (and `cache_write_tokens`, new in
// 2026); `output_tokens` includes `reasoning_tokens`.
import { makeUsage, type Usage } from "../event.ts"
import type { ResponsesUsage } from "./wire.ts"

export const normaliseUsage = (u: ResponsesUsage): Usage =>
  makeUsage({
    inclusiveTotal: u.input_tokens ?? 0,
    cacheRead: u.input_tokens_details?.cached_tokens,
    cacheWrite: u.input_tokens_details?.cache_write_tokens,
    output: u.output_tokens,
    reasoning: u.output_tokens_details?.reasoning_tokens,
    native: u
  })
