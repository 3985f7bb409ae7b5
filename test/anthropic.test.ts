import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { describeError } from "../src/cli/exit.ts"
import { MAX_BREAKPOINTS, messagesUrl } from "../src/providers/anthropic/request.ts"
import { mergeUsage, normaliseUsage } from "../src/providers/anthropic/usage.ts"
import type { Turn } from "../src/providers/conversation.ts"
import { CANARY, collect, fixture, makeEntry, makeRequest, turn } from "./lib/provider.ts"

const an = (name: string) => fixture("anthropic", name)
const entry = makeEntry({ provider: "anthropic", baseUrl: "https://api.anthropic.com", model: "claude-sonnet-4-5" })

const countMarkers = (body: unknown): number => (JSON.stringify(body).match(/"cache_control"/g) ?? []).length

describe("Anthropic request", () => {
  test("POST {base}/v1/messages with x-api-key, anthropic-version, max_tokens and a top-level system", async () => {
    const { sent } = await collect({ chunks: [an("plain-text")] }, makeRequest(entry))
    const req = sent[0]!
    expect(req.url).toBe("https://api.anthropic.com/v1/messages")
    expect(req.headers["x-api-key"]).toBe(CANARY)
    expect(req.headers["anthropic-version"]).toBe("2023-06-01")
    expect(req.headers["authorization"]).toBeUndefined()
    expect(req.body).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: 1000,
      stream: true,
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      messages: [{ role: "user", content: [{ type: "text", text: "Hi", cache_control: { type: "ephemeral" } }] }]
    })
  })

  test("a base URL that ends in /v1 does not become /v1/v1", () => {
    expect(messagesUrl(makeEntry({ baseUrl: "https://api.anthropic.com" }))).toBe("https://api.anthropic.com/v1/messages")
    expect(messagesUrl(makeEntry({ baseUrl: "http://127.0.0.1:8317/v1" }))).toBe("http://127.0.0.1:8317/v1/messages")
    expect(messagesUrl(makeEntry({ baseUrl: "https://gateway.example/anthropic" }))).toBe("https://gateway.example/anthropic/v1/messages")
  })

  test("cache breakpoints: the system prompt and only the latest user turn; 1h TTL from the config", async () => {
    const turns: Array<Turn> = [
      turn("user", "one"),
      turn("assistant", "two"),
      turn("user", "three"),
      turn("assistant", "four"),
      turn("user", "five")
    ]
    const { sent } = await collect(
      { chunks: [an("plain-text")] },
      makeRequest({ ...entry, cacheTtl: "1h" }, { conversation: { id: "c", system: "sys", turns } })
    )
    const body = sent[0]!.body as { messages: Array<{ content: Array<Record<string, unknown>> }> }
    expect(countMarkers(body)).toBe(2)
    expect(body.messages[4]!.content[0]!["cache_control"]).toEqual({ type: "ephemeral", ttl: "1h" })
    expect(body.messages.slice(0, 4).every((m) => m.content[0]!["cache_control"] === undefined)).toBe(true)
  })

  test("property: never more than 4 breakpoints, always one on the last user turn", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Turn["role"]>("user", "assistant"), { minLength: 1, maxLength: 30 }),
        fc.option(fc.string(), { nil: undefined }),
        async (roles, system) => {
          const turns = roles.map((role, i) => turn(role, `t${i}`))
          const { sent } = await collect(
            { chunks: [an("plain-text")] },
            makeRequest(entry, { conversation: { id: "c", system, turns } })
          )
          const body = sent[0]!.body as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> }
          expect(countMarkers(body)).toBeLessThanOrEqual(MAX_BREAKPOINTS)
          const lastUser = body.messages.findLastIndex((m) => m.role === "user")
          if (lastUser >= 0) expect(body.messages[lastUser]!.content[0]!["cache_control"]).toBeDefined()
        }
      ),
      { numRuns: 40 }
    )
  })

  test("extraArgs merge into the body (e.g. thinking)", async () => {
    const withThinking = { ...entry, extraArgs: { thinking: { type: "enabled", budget_tokens: 2048 } } }
    const { sent } = await collect({ chunks: [an("thinking")] }, makeRequest(withThinking))
    expect(sent[0]!.body["thinking"]).toEqual({ type: "enabled", budget_tokens: 2048 })
  })
})

describe("Anthropic stream", () => {
  const run = (name: string) => collect({ chunks: [an(name)] }, makeRequest(entry))

  test("plain text: Start, deltas, pings ignored, one Finish; usage overwritten by message_delta", async () => {
    const { events, text, finish, error } = await run("plain-text")
    expect(error).toBeUndefined()
    expect(text).toBe("Hello, world")
    expect(events[0]).toMatchObject({ _tag: "Start", model: "claude-sonnet-4-5-20250929" })
    expect(events.filter((e) => e._tag === "Finish")).toHaveLength(1)
    expect(finish?.reason).toBe("stop")
    expect(finish?.rawReason).toBe("end_turn")
    expect(finish?.usage.input).toEqual({ total: 12, uncached: 12, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0 })
    expect(finish?.usage.output).toEqual({ total: 8, reasoning: 0 })
  })

  test("a whole message in message_start (programmatic tool calling), then message_stop: its text and calls are read", async () => {
    const { events, text, finish, error } = await run("content-in-start")
    expect(error).toBeUndefined()
    expect(text).toBe("Running the query.")
    expect(events.filter((e) => e._tag === "ToolCallStart")).toEqual([{ _tag: "ToolCallStart", index: 1, id: "toolu_ptc_1", name: "query_database", kind: "function" }])
    expect(events.filter((e) => e._tag === "ToolCallDelta").map((e) => (e as { text: string }).text).join("")).toBe('{"sql":"select 1"}')
    expect(finish?.reason).toBe("tool-calls")
    expect(finish?.usage.output.total).toBe(42)
  })

  test("cache write: input_tokens excludes the cache; total = input + creation + read", async () => {
    const { finish } = await run("cache-write")
    expect(finish?.usage.input).toEqual({ total: 3073, uncached: 5, cacheRead: 0, cacheWrite: 3068, cacheWrite1h: 0 })
    expect(finish?.usage.output.total).toBe(20)
  })

  test("cache read", async () => {
    const { finish } = await run("cache-read")
    expect(finish?.usage.input).toEqual({ total: 3073, uncached: 5, cacheRead: 3068, cacheWrite: 0, cacheWrite1h: 0 })
  })

  test("5-minute and 1-hour cache writes are kept apart", async () => {
    const { finish } = await run("cache-write-1h")
    expect(finish?.usage.input).toEqual({ total: 3007, uncached: 7, cacheRead: 0, cacheWrite: 3000, cacheWrite1h: 2000 })
  })

  test("cumulative message_delta usage overwrites message_start, never adds", async () => {
    const { finish } = await run("server-tools-cumulative")
    expect(finish?.usage.input).toEqual({ total: 9632, uncached: 6, cacheRead: 6289, cacheWrite: 3337, cacheWrite1h: 0 })
    expect(finish?.usage.output.total).toBe(198)
  })

  test("thinking deltas are reasoning; signature deltas are ignored", async () => {
    const { events, text, finish } = await run("thinking")
    expect(events.filter((e) => e._tag === "ReasoningDelta")).toEqual([{ _tag: "ReasoningDelta", text: "Let me think" }])
    expect(text).toBe("4")
    expect(finish?.usage.output).toEqual({ total: 55, reasoning: 50 })
  })

  test("max_tokens → length; refusal → content-filter", async () => {
    expect((await run("max-tokens")).finish?.reason).toBe("length")
    const refusal = await run("refusal")
    expect(refusal.finish?.reason).toBe("content-filter")
    expect(refusal.finish?.rawReason).toBe("refusal")
  })

  test("unknown event and delta types are ignored", async () => {
    const { text, error, finish } = await run("unknown-events")
    expect(error).toBeUndefined()
    expect(text).toBe("fine")
    expect(finish?.reason).toBe("stop")
  })

  test("overloaded_error mid-stream → ProviderInternalError(overloaded), mid-stream, not retryable", async () => {
    const { text, error } = await run("overloaded-midstream")
    expect(text).toBe("Partial")
    expect(error?.reason._tag).toBe("ProviderInternalError")
    expect(error?.reason._tag === "ProviderInternalError" && error.reason.overloaded).toBe(true)
    expect(error?.midStream).toBe(true)
    expect(error?.retryable).toBe(false)
    expect(describeError(error!)!.headline).toContain("overloaded")
  })

  test("a stream without message_stop → stream-cut", async () => {
    const { error } = await run("no-stop")
    expect(error?.reason._tag === "ConnectionError" && error.reason.kind).toBe("stream-cut")
  })

  test("HTTP errors in Anthropic's shape map like OpenAI's", async () => {
    const body = (type: string) => JSON.stringify({ type: "error", error: { type, message: "x" }, request_id: "req_9" })
    const cases: Array<[number, string, string]> = [
      [401, "authentication_error", "AuthenticationError"],
      [429, "rate_limit_error", "RateLimitError"],
      [529, "overloaded_error", "ProviderInternalError"],
      [404, "not_found_error", "ModelNotFound"],
      [500, "api_error", "ProviderInternalError"]
    ]
    for (const [status, type, tag] of cases) {
      const { error } = await collect(
        { status, headers: { "content-type": "application/json", "request-id": "req_9" }, chunks: [body(type)] },
        makeRequest(entry)
      )
      expect(error?.reason._tag as string).toBe(tag)
      expect(error?.requestId).toBe("req_9")
    }
  })
})

describe("Anthropic usage", () => {
  const count = fc.oneof(fc.integer({ min: -10, max: 5_000_000 }), fc.constant(null), fc.constant(undefined))
  test("property: total = uncached + cacheRead + cacheWrite, none negative, for any start and delta usage", () => {
    fc.assert(
      fc.property(count, count, count, count, count, count, count, (i, cw, cr, w5, w1, o, o2) => {
        const startUsage = {
          input_tokens: i,
          cache_creation_input_tokens: cw,
          cache_read_input_tokens: cr,
          cache_creation: { ephemeral_5m_input_tokens: w5, ephemeral_1h_input_tokens: w1 },
          output_tokens: o
        }
        const u = normaliseUsage(mergeUsage(startUsage as never, { output_tokens: o2 as never }))
        expect(u.input.total).toBe(u.input.uncached + u.input.cacheRead + u.input.cacheWrite)
        for (const n of [u.input.total, u.input.uncached, u.input.cacheRead, u.input.cacheWrite, u.input.cacheWrite1h, u.output.total]) {
          expect(n).toBeGreaterThanOrEqual(0)
        }
        expect(u.input.cacheWrite1h).toBeLessThanOrEqual(u.input.cacheWrite)
      }),
      { numRuns: 500 }
    )
  })
})

describe("a server that ignores stream: true", () => {
  test("one Message as JSON is read as the stream would have been: text, thinking, stop reason, usage", async () => {
    const body = JSON.stringify({
      id: "msg_1",
      type: "message",
      model: "claude-sonnet-4-5",
      content: [{ type: "thinking", thinking: "hmm" }, { type: "text", text: "Whole answer." }],
      stop_reason: "max_tokens",
      usage: { input_tokens: 10, cache_read_input_tokens: 90, cache_creation_input_tokens: 5, output_tokens: 7 }
    })
    const { text, finish, events, error } = await collect(
      { chunks: [body], headers: { "content-type": "application/json" } },
      makeRequest(entry)
    )
    expect(error).toBeUndefined()
    expect(text).toBe("Whole answer.")
    expect(events.some((e) => e._tag === "ReasoningDelta" && e.text === "hmm")).toBe(true)
    expect(finish?.reason).toBe("length")
    expect(finish?.usage.input).toMatchObject({ total: 105, uncached: 10, cacheRead: 90, cacheWrite: 5 })
    expect(finish?.usage.output.total).toBe(7)
  })

  test("a JSON body that is not a Message is reported, not mistaken for an answer", async () => {
    const { error } = await collect(
      { chunks: [JSON.stringify({ hello: "world" })], headers: { "content-type": "application/json" } },
      makeRequest(entry)
    )
    expect(error?.reason._tag).toBe("InvalidResponseError")
  })
})
