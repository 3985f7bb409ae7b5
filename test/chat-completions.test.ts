import { describe, expect, test } from "bun:test"
import { quirksFor } from "../src/providers/chat-completions/quirks.ts"
import type { LlmEvent } from "../src/providers/event.ts"
import { splitAt, sse } from "./lib/http.ts"
import { CANARY, collect, fixture, makeEntry, makeRequest, turn } from "./lib/provider.ts"

const cc = (name: string) => fixture("chat-completions", name)

describe("Chat Completions request", () => {
  test("POST {base_url}/chat/completions, streamed, Bearer auth, max_tokens for a local server", async () => {
    const { sent } = await collect({ chunks: [cc("ollama-plain")] })
    expect(sent).toHaveLength(1)
    const req = sent[0]!
    expect(req.url).toBe("http://127.0.0.1:9/v1/chat/completions")
    expect(req.headers["authorization"]).toBe(`Bearer ${CANARY}`)
    expect(req.body).toEqual({
      model: "test-model",
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 1000
    })
  })

  test("api.openai.com gets max_completion_tokens and prompt_cache_key", async () => {
    const entry = makeEntry({ baseUrl: "https://api.openai.com/v1" })
    const { sent } = await collect({ chunks: [cc("openai-cached")] }, makeRequest(entry, { maxOutputTokens: 77 }))
    expect(sent[0]!.body["max_completion_tokens"]).toBe(77)
    expect(sent[0]!.body).not.toHaveProperty("max_tokens")
    expect(sent[0]!.body["prompt_cache_key"]).toMatch(/^byok-[0-9a-z]+$/)
  })

  test("prompt_cache_key: the same for a repeated prompt and a growing conversation, else different", async () => {
    const entry = makeEntry({ baseUrl: "https://api.openai.com/v1" })
    const key = async (said: ReadonlyArray<{ role: "user" | "assistant"; content: string }>, id: string) =>
      (await collect({ chunks: [cc("openai-cached")] }, makeRequest(entry, {
        conversation: { id, system: "Be brief.", turns: said.map((t) => turn(t.role, t.content)) }
      }))).sent[0]!.body["prompt_cache_key"]
    const first = await key([{ role: "user", content: "long document" }], "run-1")
    expect(await key([{ role: "user", content: "long document" }], "run-2")).toBe(first)
    expect(await key([
      { role: "user", content: "long document" },
      { role: "assistant", content: "ok" },
      { role: "user", content: "and then?" }
    ], "run-1")).toBe(first)
    expect(await key([{ role: "user", content: "another document" }], "run-1")).not.toBe(first)
  })

  test("OpenRouter with anthropic/ or google/ models: cache_control on the system prompt and the last user turn", async () => {
    const entry = makeEntry({ baseUrl: "https://openrouter.ai/api/v1", model: "anthropic/claude-sonnet-4.5", cacheTtl: "1h" })
    const turns = [
      turn("user", "first"),
      turn("assistant", "reply"),
      turn("user", "second")
    ]
    const { sent } = await collect({ chunks: [cc("openrouter-crlf-comments")] }, makeRequest(entry, {
      conversation: { id: "c", system: "You are terse.", turns }
    }))
    const marker = { type: "ephemeral", ttl: "1h" }
    expect(sent[0]!.body["messages"]).toEqual([
      { role: "system", content: [{ type: "text", text: "You are terse.", cache_control: marker }] },
      { role: "user", content: "first" },
      { role: "assistant", content: "reply" },
      { role: "user", content: [{ type: "text", text: "second", cache_control: marker }] }
    ])
    const other = makeEntry({ baseUrl: "https://openrouter.ai/api/v1", model: "qwen/qwen3-coder" })
    const plain = await collect({ chunks: [cc("openrouter-crlf-comments")] }, makeRequest(other))
    expect(JSON.stringify(plain.sent[0]!.body)).not.toContain("cache_control")
  })

  test("quirks table: Mistral gets no stream_options; unknown hosts get the defaults", () => {
    expect(quirksFor(makeEntry({ baseUrl: "https://api.mistral.ai/v1" })).streamOptions).toBe(false)
    expect(quirksFor(makeEntry({ baseUrl: "http://localhost:11434/v1" }))).toMatchObject({
      maxTokensField: "max_tokens",
      streamOptions: true,
      promptCacheKey: false,
      cacheControl: false,
      reasoningApart: false
    })
    expect(quirksFor(makeEntry({ baseUrl: "http://localhost:11434/v1" })).callId("call_x.y")).toBe("call_x.y")
  })

  test("extraArgs merge into the body and extraHeaders are sent; they cannot turn streaming off", async () => {
    const entry = makeEntry({
      extraArgs: { temperature: 0.1, reasoning_effort: "low", stream: false, max_tokens: 5 },
      extraHeaders: { "HTTP-Referer": "https://byok.dev", "X-Title": "byok" }
    })
    const { sent } = await collect({ chunks: [cc("ollama-plain")] }, makeRequest(entry))
    expect(sent[0]!.body).toMatchObject({ temperature: 0.1, reasoning_effort: "low", stream: true, max_tokens: 5 })
    expect(sent[0]!.headers["http-referer"]).toBe("https://byok.dev")
    expect(sent[0]!.headers["x-title"]).toBe("byok")
  })
})

describe("Chat Completions stream", () => {
  test("OpenAI: text deltas, then one Finish with usage from the separate choices:[] chunk", async () => {
    const { events, text, finish, error } = await collect({ chunks: [cc("openai-cached")] })
    expect(error).toBeUndefined()
    expect(text).toBe("Hello wörld 👋")
    expect(events[0]).toEqual({ _tag: "Start", requestId: undefined, model: "gpt-4.1-nano-2025-04-14" })
    expect(events.filter((e) => e._tag === "Finish")).toHaveLength(1)
    expect(events.at(-1)?._tag).toBe("Finish")
    expect(finish?.reason).toBe("stop")
    // prompt_tokens includes cached_tokens.
    expect(finish?.usage.input).toEqual({ total: 2006, uncached: 86, cacheRead: 1920, cacheWrite: 0, cacheWrite1h: 0 })
    expect(finish?.usage.output).toEqual({ total: 300, reasoning: 64 })
  })

  test("DeepSeek: reasoning_content deltas, usage on the finish chunk, cache hits", async () => {
    const { events, text, finish } = await collect({ chunks: [cc("deepseek-reasoning")] })
    // Two reasoning deltas in one network chunk: one event, before the answer's text.
    expect(events.filter((e) => e._tag === "ReasoningDelta").map((e) => (e as { text: string }).text)).toEqual(["Thinking."])
    expect(events.findIndex((e) => e._tag === "ReasoningDelta")).toBeLessThan(events.findIndex((e) => e._tag === "TextDelta"))
    expect(text).toBe("42")
    expect(finish?.usage.input).toEqual({ total: 374, uncached: 118, cacheRead: 256, cacheWrite: 0, cacheWrite1h: 0 })
    expect(finish?.usage.output).toEqual({ total: 61, reasoning: 17 })
  })

  test("OpenRouter: CRLF, comment lines, delta.reasoning, cache writes and usage.cost", async () => {
    const { events, text, finish } = await collect({ chunks: [cc("openrouter-crlf-comments")] })
    expect(text).toBe("Bonjour")
    expect(events.some((e) => e._tag === "ReasoningDelta" && e.text === "Hmm")).toBe(true)
    expect(finish?.usage.input).toEqual({ total: 5000, uncached: 500, cacheRead: 3000, cacheWrite: 1500, cacheWrite1h: 0 })
    expect(finish?.usage.reportedCost).toBe(0.00123)
  })

  test("Ollama: usage without details", async () => {
    const { text, finish } = await collect({ chunks: [cc("ollama-plain")] })
    expect(text).toBe("Hi there")
    expect(finish?.usage.input).toEqual({ total: 26, uncached: 26, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0 })
    expect(finish?.usage.output.total).toBe(3)
  })

  test("llama.cpp: timings.cache_n counts as cache reads", async () => {
    const { finish } = await collect({ chunks: [cc("llamacpp-timings")] })
    expect(finish?.usage.input).toEqual({ total: 112, uncached: 12, cacheRead: 100, cacheWrite: 0, cacheWrite1h: 0 })
  })

  test("finish_reason length → Finish(length)", async () => {
    const { finish, text } = await collect({ chunks: [cc("length-cut")] })
    expect(text).toBe("Once upon a")
    expect(finish?.reason).toBe("length")
    expect(finish?.rawReason).toBe("length")
  })

  test("a refusal is shown as text and ends as content-filter", async () => {
    const { text, finish } = await collect({ chunks: [cc("refusal")] })
    expect(text).toBe("I can't help with that.")
    expect(finish).toMatchObject({ reason: "content-filter", rawReason: "content_filter" })
  })

  test("unknown events, objects and fields are ignored", async () => {
    const { text, finish, error } = await collect({ chunks: [cc("unknown-events")] })
    expect(error).toBeUndefined()
    expect(text).toBe("ok")
    expect(finish?.reason).toBe("stop")
  })

  test("a retry: field is ignored, not fatal", async () => {
    const { text, error } = await collect({ chunks: [cc("retry-field")] })
    expect(error).toBeUndefined()
    expect(text).toBe("still fine")
  })

  test("in-band {error} after HTTP 200 → typed error, mid-stream", async () => {
    const { text, error, events } = await collect({ chunks: [cc("inband-error")] })
    expect(text).toBe("Partial")
    expect(events.some((e) => e._tag === "Finish")).toBe(false)
    expect(error?.reason._tag).toBe("ProviderInternalError")
    expect(error?.midStream).toBe(true)
    expect(error?.retryable).toBe(false)
  })

  test("OpenRouter chunk-level error with a numeric code", async () => {
    const { error } = await collect({ chunks: [cc("openrouter-error-chunk")] })
    expect(error?.reason._tag).toBe("InvalidRequestError")
  })

  test("vLLM {object: error} about context length", async () => {
    const { error } = await collect({ chunks: [cc("vllm-error")] })
    expect(error?.reason._tag).toBe("ContextLengthExceeded")
    expect(error?.midStream).toBe(false)
  })

  test("the server ends the stream without finish_reason or [DONE]: a Finish that says it gave no reason, not a cut", async () => {
    const { text, error, events } = await collect({ chunks: [cc("no-done")] })
    expect(text).toBe("Half an ans")
    expect(error).toBeUndefined()
    expect(events.at(-1)).toMatchObject({ _tag: "Finish", reason: "other", rawReason: undefined })
  })

  test("the connection is cut mid-body → ConnectionError stream-cut", async () => {
    const body = cc("openai-cached")
    const { error, text } = await collect({ chunks: [body.slice(0, body.indexOf("finish_reason\":\"stop") - 200)], cut: true })
    expect(text).toBe("Hello")
    expect(error?.reason._tag === "ConnectionError" && error.reason.kind).toBe("stream-cut")
  })

  test("a malformed chunk → InvalidResponseError", async () => {
    const { error } = await collect({ chunks: ["data: {\"choices\": [\n\n"] })
    expect(error?.reason._tag).toBe("InvalidResponseError")
  })

  test("a body with no events (wrong endpoint) → InvalidResponseError naming base_url", async () => {
    const { error } = await collect({ chunks: ["<html>hello</html>"], headers: { "content-type": "text/html" } })
    expect(error?.reason._tag).toBe("InvalidResponseError")
    expect(error?.reason.message).toContain("base_url")
  })

  test("a server that ignores stream:true and sends one JSON body still works", async () => {
    const body = JSON.stringify({
      id: "x",
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: "whole answer" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 5, completion_tokens: 2 }
    })
    const { text, finish } = await collect({ chunks: [body], headers: { "content-type": "application/json" } })
    expect(text).toBe("whole answer")
    expect(finish?.usage.input.total).toBe(5)
  })

  test("the usage chunk split into single bytes (inside UTF-8 too) gives the same result", async () => {
    const body = cc("openai-cached")
    const bytes = new TextEncoder().encode(body).length
    const whole = await collect({ chunks: [body] })
    const split = await collect({ chunks: splitAt(body, Array.from({ length: bytes }, (_, i) => i)) })
    // The same text and the same events around it; where the deltas divide the text follows the network chunks.
    expect(split.text).toBe(whole.text)
    const notText = (events: ReadonlyArray<LlmEvent>) => events.filter((e) => e._tag !== "TextDelta")
    expect(notText(split.events)).toEqual(notText(whole.events))
  })
})

describe("vendors whose streams byok misread (recorded streams)", () => {
  const chunk = (delta: unknown, extra: Record<string, unknown> = {}) => ({ model: "m", choices: [{ index: 0, delta, finish_reason: null }], ...extra })

  test("xAI: reasoning_tokens come on top of completion_tokens, and are booked as output", async () => {
    const usage = { prompt_tokens: 10, completion_tokens: 2, total_tokens: 352, completion_tokens_details: { reasoning_tokens: 340 } }
    const body = sse(chunk({ content: "Hi" }), { model: "grok-4", choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage }, "[DONE]")
    const xai = await collect({ chunks: [body] }, makeRequest(makeEntry({ baseUrl: "https://api.x.ai/v1", model: "grok-4" })))
    expect(xai.finish?.usage.output).toEqual({ total: 342, reasoning: 340 })
    // The same numbers elsewhere: total_tokens shows the reasoning counted apart, so it is added there too.
    const other = await collect({ chunks: [body] })
    expect(other.finish?.usage.output).toEqual({ total: 342, reasoning: 340 })
    // OpenAI's meaning (reasoning inside completion_tokens) is left as it is.
    const openai = sse(chunk({ content: "Hi" }), {
      model: "o4", choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
      usage: { prompt_tokens: 10, completion_tokens: 300, total_tokens: 310, completion_tokens_details: { reasoning_tokens: 250 } }
    }, "[DONE]")
    expect((await collect({ chunks: [openai] })).finish?.usage.output).toEqual({ total: 300, reasoning: 250 })
  })

  test("Mistral: content as a list of parts, text as the answer and thinking as reasoning", async () => {
    const body = sse(
      chunk({ role: "assistant", content: [{ type: "thinking", thinking: [{ type: "text", text: "Let me " }] }] }),
      chunk({ content: [{ type: "thinking", thinking: [{ type: "text", text: "think." }] }] }),
      chunk({ content: [{ type: "text", text: "The answer" }] }),
      chunk({ content: [{ type: "text", text: " is 4." }] }),
      { model: "m", choices: [{ index: 0, delta: { content: "" }, finish_reason: "stop" }], usage: { prompt_tokens: 5, completion_tokens: 9 } },
      "[DONE]"
    )
    const { text, events, error } = await collect({ chunks: [body] }, makeRequest(makeEntry({ baseUrl: "https://api.mistral.ai/v1", model: "magistral-medium-latest" })))
    expect(error).toBeUndefined()
    expect(text).toBe("The answer is 4.")
    expect(events.filter((e) => e._tag === "ReasoningDelta").map((e) => (e as { text: string }).text).join("")).toBe("Let me think.")
  })

  test("a content value byok cannot read is a warning, never silence", async () => {
    const body = sse(chunk({ content: [{ type: "image_url", image_url: "x" }] }), chunk({ content: [{ type: "text", text: "ok" }] }), chunk({ content: [{ type: "image_url" }] }), {
      model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }]
    }, "[DONE]")
    const { text, events } = await collect({ chunks: [body] })
    expect(text).toBe("ok")
    const warnings = events.filter((e) => e._tag === "Warning")
    expect(warnings).toHaveLength(1)
    expect((warnings[0] as { text: string }).text).toContain(`a content part of type "image_url"`)
  })
})
