import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { normaliseUsage } from "../src/providers/chat-completions/usage.ts"
import type { Usage } from "../src/providers/event.ts"

const anyCount = fc.oneof(fc.integer({ min: -5, max: 2_000_000 }), fc.constant(undefined), fc.double(), fc.constant(null))

const invariant = (u: Usage) => {
  const { total, uncached, cacheRead, cacheWrite, cacheWrite1h } = u.input
  expect(total).toBe(uncached + cacheRead + cacheWrite)
  for (const n of [total, uncached, cacheRead, cacheWrite, cacheWrite1h, u.output.total, u.output.reasoning]) {
    expect(Number.isInteger(n)).toBe(true)
    expect(n).toBeGreaterThanOrEqual(0)
  }
  expect(cacheWrite1h).toBeLessThanOrEqual(cacheWrite)
  expect(u.output.reasoning).toBeLessThanOrEqual(u.output.total)
}

describe("Chat Completions usage", () => {
  test("property: for any usage the server reports, total = uncached + cacheRead + cacheWrite, none negative", () => {
    fc.assert(
      fc.property(anyCount, anyCount, anyCount, anyCount, anyCount, anyCount, (prompt, cached, write, out, reasoning, hit) => {
        const usage = {
          prompt_tokens: prompt,
          completion_tokens: out,
          prompt_tokens_details: { cached_tokens: cached, cache_write_tokens: write },
          completion_tokens_details: { reasoning_tokens: reasoning },
          prompt_cache_hit_tokens: hit
        } as never
        invariant(normaliseUsage(usage, undefined))
        invariant(normaliseUsage(usage, { cache_n: hit as never, prompt_n: prompt as never }))
      }),
      { numRuns: 500 }
    )
  })

  test("absurd counts (beyond 2^53) still add up exactly", () => {
    const u = normaliseUsage({
      prompt_tokens: 1e300,
      prompt_tokens_details: { cached_tokens: 1e300, cache_write_tokens: 3 },
      completion_tokens: 7
    }, undefined)
    expect(u.input.total).toBe(u.input.uncached + u.input.cacheRead + u.input.cacheWrite)
    expect(Number.isSafeInteger(u.input.total)).toBe(true)
  })

  test("consistent counters are kept exactly", () => {
    const u = normaliseUsage({
      prompt_tokens: 1000,
      completion_tokens: 50,
      prompt_tokens_details: { cached_tokens: 600, cache_write_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 20 }
    }, undefined)
    expect(u.input).toEqual({ total: 1000, uncached: 300, cacheRead: 600, cacheWrite: 100, cacheWrite1h: 0 })
    expect(u.output).toEqual({ total: 50, reasoning: 20 })
  })
})
