import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { normaliseUsage } from "../src/providers/openai-responses/usage.ts"
import { CANARY, collect, fixture, makeEntry, makeRequest, turn } from "./lib/provider.ts"

const rs = (name: string) => fixture("openai-responses", name)
const entry = makeEntry({ provider: "openai", baseUrl: "https://api.openai.com/v1", model: "gpt-5.1" })
const run = (name: string) => collect({ chunks: [rs(name)] }, makeRequest(entry))

describe("Responses request", () => {
  test("POST {base}/responses, Bearer, instructions, input items, max_output_tokens, store false, cache key", async () => {
    const { sent } = await collect({ chunks: [rs("plain-text")] }, makeRequest(entry, {
      conversation: {
        id: "c",
        system: "Be brief.",
        turns: [turn("user", "Hi"), turn("assistant", "Hello"), turn("user", "More")]
      }
    }))
    const req = sent[0]!
    expect(req.url).toBe("https://api.openai.com/v1/responses")
    expect(req.headers["authorization"]).toBe(`Bearer ${CANARY}`)
    expect(req.body).toEqual({
      model: "gpt-5.1",
      instructions: "Be brief.",
      input: [
        { type: "message", role: "user", content: [{ type: "input_text", text: "Hi" }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Hello" }] },
        { type: "message", role: "user", content: [{ type: "input_text", text: "More" }] }
      ],
      max_output_tokens: 1000,
      store: false,
      stream: true,
      prompt_cache_key: expect.stringMatching(/^byok-/)
    })
  })

  test("max_output_tokens is at least 16 (the API's minimum)", async () => {
    const { sent } = await collect({ chunks: [rs("plain-text")] }, makeRequest(entry, { maxOutputTokens: 5 }))
    expect(sent[0]!.body["max_output_tokens"]).toBe(16)
  })
})

describe("Responses stream", () => {
  test("plain text with one Finish and exact usage", async () => {
    const { events, text, finish, error } = await run("plain-text")
    expect(error).toBeUndefined()
    expect(text).toBe("Hello, world")
    expect(events[0]).toMatchObject({ _tag: "Start", model: "gpt-5.1-2025-11-13" })
    expect(events.filter((e) => e._tag === "Finish")).toHaveLength(1)
    expect(finish?.reason).toBe("stop")
    expect(finish?.usage.input).toEqual({ total: 45, uncached: 45, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0 })
    expect(finish?.usage.output).toEqual({ total: 25, reasoning: 0 })
  })

  test("cache read: input_tokens includes cached_tokens; output includes reasoning", async () => {
    const { finish } = await run("cache-read")
    expect(finish?.usage.input).toEqual({ total: 2006, uncached: 86, cacheRead: 1920, cacheWrite: 0, cacheWrite1h: 0 })
    expect(finish?.usage.output).toEqual({ total: 300, reasoning: 64 })
  })

  test("cache_write_tokens when present", async () => {
    const { finish } = await run("cache-write")
    expect(finish?.usage.input).toEqual({ total: 5000, uncached: 200, cacheRead: 0, cacheWrite: 4800, cacheWrite1h: 0 })
  })

  test("reasoning summary deltas are reasoning", async () => {
    const { events, text, finish } = await run("reasoning")
    expect(events.filter((e) => e._tag === "ReasoningDelta")).toEqual([
      { _tag: "ReasoningDelta", text: "**Planning** the answer" }
    ])
    expect(text).toBe("42")
    expect(finish?.usage.output.reasoning).toBe(64)
  })

  test("response.incomplete carries its reason", async () => {
    const cut = await run("incomplete-max-tokens")
    expect(cut.text).toBe("Once upon a")
    expect(cut.finish).toMatchObject({ reason: "length", rawReason: "max_output_tokens" })
    expect(cut.finish?.usage.output.total).toBe(16)
    expect((await run("incomplete-content-filter")).finish).toMatchObject({ reason: "content-filter" })
  })

  test("refusal text is shown; a function call ends as tool-calls", async () => {
    const refusal = await run("refusal")
    expect(refusal.text).toBe("I can't help with that.")
    expect((await run("function-call")).finish?.reason).toBe("tool-calls")
  })

  test("the error event, nested (real streams) and flat (the spec)", async () => {
    const nested = await run("error-nested")
    expect(nested.error?.reason._tag).toBe("RateLimitError")
    expect(nested.error?.reason._tag === "RateLimitError" && nested.error.reason.quota).toBe(true)
    const flat = await run("error-flat")
    expect(flat.text).toBe("Part")
    expect(flat.error?.reason._tag).toBe("ProviderInternalError")
    expect(flat.error?.midStream).toBe(true)
  })

  test("response.failed → the typed error of its code", async () => {
    const { error } = await run("failed")
    expect(error?.reason._tag).toBe("RateLimitError")
  })

  test("unknown event types are ignored", async () => {
    const { text, error, finish } = await run("unknown-events")
    expect(error).toBeUndefined()
    expect(text).toBe("Hello, world")
    expect(finish?.reason).toBe("stop")
  })

  test("no terminal event → stream-cut", async () => {
    const { error } = await run("no-terminal")
    expect(error?.reason._tag === "ConnectionError" && error.reason.kind).toBe("stream-cut")
  })
})

describe("Responses usage", () => {
  const count = fc.oneof(fc.integer({ min: -10, max: 5_000_000 }), fc.constant(undefined))
  test("property: total = uncached + cacheRead + cacheWrite, none negative", () => {
    fc.assert(
      fc.property(count, count, count, count, count, (inp, cached, write, out, reasoning) => {
        const u = normaliseUsage({
          input_tokens: inp as number,
          input_tokens_details: { cached_tokens: cached as number, cache_write_tokens: write as number },
          output_tokens: out as number,
          output_tokens_details: { reasoning_tokens: reasoning as number }
        })
        expect(u.input.total).toBe(u.input.uncached + u.input.cacheRead + u.input.cacheWrite)
        for (const n of Object.values(u.input)) expect(n).toBeGreaterThanOrEqual(0)
        expect(u.output.reasoning).toBeLessThanOrEqual(u.output.total)
      }),
      { numRuns: 500 }
    )
  })
})

describe("a server that ignores stream: true", () => {
  test("one Response object as JSON is read as the stream would have been", async () => {
    const body = JSON.stringify({
      id: "resp_1",
      object: "response",
      status: "completed",
      model: "gpt-5.1",
      output: [
        { type: "reasoning", summary: [{ type: "summary_text", text: "thinking" }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Whole " }, { type: "output_text", text: "answer." }] }
      ],
      usage: { input_tokens: 100, input_tokens_details: { cached_tokens: 60 }, output_tokens: 9, output_tokens_details: { reasoning_tokens: 4 } }
    })
    const { text, finish, events, error } = await collect(
      { chunks: [body], headers: { "content-type": "application/json" } },
      makeRequest(entry)
    )
    expect(error).toBeUndefined()
    expect(text).toBe("Whole answer.")
    expect(events.some((e) => e._tag === "ReasoningDelta" && e.text === "thinking")).toBe(true)
    expect(finish?.reason).toBe("stop")
    expect(finish?.usage.input).toMatchObject({ total: 100, uncached: 40, cacheRead: 60 })
    expect(finish?.usage.output).toEqual({ total: 9, reasoning: 4 })
  })

  test("an incomplete Response as JSON ends with its reason", async () => {
    const body = JSON.stringify({
      object: "response",
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      output: [{ type: "message", content: [{ type: "output_text", text: "Cut" }] }]
    })
    const { text, finish } = await collect({ chunks: [body], headers: { "content-type": "application/json" } }, makeRequest(entry))
    expect(text).toBe("Cut")
    expect(finish?.reason).toBe("length")
  })
})
