// Tool calls, reasoning that must go back, and the parts of a conversation, through all three wire formats: the
// events each stream gives (a call's start, its argument pieces, its end, in order; parallel calls apart), the
// finish reason, and the request body each format gets for every kind of part.
import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import type { LlmRequest, Turn } from "../src/providers/conversation.ts"
import type { LlmEvent } from "../src/providers/event.ts"
import { splitAt } from "./lib/http.ts"
import { collect, fixture, makeEntry, makeRequest } from "./lib/provider.ts"

const chat = makeEntry({ baseUrl: "https://api.openai.com/v1", model: "gpt-4.1" })
const claude = makeEntry({ provider: "anthropic", baseUrl: "https://api.anthropic.com", model: "claude-sonnet-4-5" })
const gpt = makeEntry({ provider: "openai", baseUrl: "https://api.openai.com/v1", model: "gpt-5.1" })

/** The calls a stream's events describe, assembled as a client would: by index, arguments joined. */
const callsOf = (events: ReadonlyArray<LlmEvent>) => {
  const calls = new Map<number, { id: string; name: string; kind: string; arguments: string; ended: boolean }>()
  for (const e of events) {
    if (e._tag === "ToolCallStart") calls.set(e.index, { id: e.id, name: e.name, kind: e.kind, arguments: "", ended: false })
    if (e._tag === "ToolCallDelta") {
      const call = calls.get(e.index)!
      expect(call.ended).toBe(false)
      call.arguments += e.text
    }
    if (e._tag === "ToolCallEnd") calls.get(e.index)!.ended = true
  }
  return [...calls.values()]
}

const streams = [
  {
    name: "Chat Completions: text, then two parallel calls whose arguments interleave",
    entry: chat,
    body: fixture("chat-completions", "tool-calls-parallel"),
    text: "Checking both.",
    calls: [
      { id: "call_a", name: "get_weather", kind: "function", arguments: "{\"city\":\"Paris\"}", ended: true },
      { id: "call_b", name: "get_time", kind: "function", arguments: "{\"tz\":\"Europe/Paris\"}", ended: true }
    ]
  },
  {
    name: "Chat Completions: a whole call in one fragment, llama.cpp's 32-character id kept as it is",
    entry: chat,
    body: fixture("chat-completions", "tool-call-whole"),
    text: "",
    calls: [{ id: "Zq8VbR1c2X3d4E5f6G7h8I9j0K1l2M3n", name: "get_weather", kind: "function", arguments: "{\"city\":\"Oslo\"}", ended: true }]
  },
  {
    name: "Messages: signed thinking, text, two calls with their input in pieces",
    entry: claude,
    body: fixture("anthropic", "tool-use"),
    text: "Let me check.",
    calls: [
      { id: "toolu_01A", name: "get_weather", kind: "function", arguments: "{\"city\": \"Paris\"}", ended: true },
      { id: "toolu_01B", name: "get_time", kind: "function", arguments: "{\"tz\":\"Europe/Paris\"}", ended: true }
    ]
  },
  {
    name: "Messages: the stop reason only in message_start, redacted thinking, a server tool with its input whole",
    entry: claude,
    body: fixture("anthropic", "stop-in-start"),
    text: "",
    calls: [{ id: "srvtoolu_1", name: "web_search", kind: "server_tool_use", arguments: "{\"query\":\"weather Paris\"}", ended: true }]
  },
  {
    name: "Responses: encrypted reasoning, text, a function call, a custom tool call and apply_patch",
    entry: gpt,
    body: fixture("openai-responses", "tool-calls"),
    text: "On it.",
    calls: [
      { id: "call_1", name: "get_weather", kind: "function", arguments: "{\"city\":\"Paris\"}", ended: true },
      { id: "call_2", name: "apply_grammar", kind: "custom_tool_call", arguments: "raw input", ended: true },
      {
        id: "call_3",
        name: "apply_patch_call",
        kind: "apply_patch_call",
        arguments: JSON.stringify({ operation: { type: "update_file", path: "a.txt", diff: "@@\n-x\n+y" } }),
        ended: true
      }
    ]
  },
  {
    name: "Responses from llama.cpp (recorded here): items and argument deltas named by item id, with no output_index",
    entry: gpt,
    body: fixture("openai-responses", "llamacpp-tool-call"),
    text: "atj2ist",
    calls: [{ id: "call_himUOi9nWNvpUUi9qUISqsdLI6H7LaJH", name: "get_weather", kind: "function", arguments: "{\n\n\"city\":\n\n\"gor ies7%thiW_en]istcjasst''D@{2CFt3F<5ass^\\\\` sXthpassanasszEan2S\"}", ended: true }]
  },
  {
    name: "Responses: a local_shell_call alone is a call of its kind, never an empty stop",
    entry: gpt,
    body: fixture("openai-responses", "shell-call"),
    text: "",
    calls: [{ id: "call_9", name: "local_shell_call", kind: "local_shell_call", arguments: JSON.stringify({ action: { type: "exec", command: ["ls", "-la"] } }), ended: true }]
  }
]

describe("tool calls in the stream", () => {
  for (const s of streams) {
    test(s.name, async () => {
      const { events, text, finish, error } = await collect({ chunks: [s.body] }, makeRequest(s.entry))
      expect(error).toBeUndefined()
      expect(text).toBe(s.text)
      expect(callsOf(events)).toEqual(s.calls)
      expect(finish?.reason).toBe("tool-calls")
      // Every call ends before the Finish.
      const ends = events.flatMap((e, i) => (e._tag === "ToolCallEnd" ? [i] : []))
      expect(Math.max(...ends)).toBeLessThan(events.findIndex((e) => e._tag === "Finish"))
    })
  }

  test("property: any cut of any of these streams gives the same calls, text and finish", async () => {
    const whole = await Promise.all(streams.map((s) => collect({ chunks: [s.body] }, makeRequest(s.entry))))
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: streams.length - 1 }), fc.array(fc.nat({ max: 6000 }), { maxLength: 8 }), async (i, cuts) => {
        const s = streams[i]!
        const cut = await collect({ chunks: splitAt(s.body, cuts) }, makeRequest(s.entry))
        expect(callsOf(cut.events)).toEqual(callsOf(whole[i]!.events))
        expect(cut.text).toBe(whole[i]!.text)
        expect(cut.finish?.reason).toBe("tool-calls")
      }),
      { numRuns: 200 }
    )
  })

  test("Messages: the thinking block's signature and the redacted block's data come with ReasoningEnd", async () => {
    const signed = await collect({ chunks: [fixture("anthropic", "tool-use")] }, makeRequest(claude))
    expect(signed.events.filter((e) => e._tag === "ReasoningEnd")).toEqual([{ _tag: "ReasoningEnd", signature: "EqQBCgIYAhIMsig", redacted: undefined }])
    const redacted = await collect({ chunks: [fixture("anthropic", "stop-in-start")] }, makeRequest(claude))
    expect(redacted.events.filter((e) => e._tag === "ReasoningEnd")).toEqual([{ _tag: "ReasoningEnd", signature: undefined, redacted: "EmwKAhgBEgy3va3pzix" }])
  })

  test("Responses: the reasoning item's id and encrypted content come with ReasoningEnd", async () => {
    const { events } = await collect({ chunks: [fixture("openai-responses", "tool-calls")] }, makeRequest(gpt))
    expect(events.filter((e) => e._tag === "ReasoningEnd")).toEqual([{ _tag: "ReasoningEnd", itemId: "rs_1", encrypted: "gAAAAABencrypted==" }])
  })
})

// ---- the request: every part in every format --------------------------------------------------------------------

const tools = [{ name: "get_weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" } } } }]

/** A conversation with a call and its result: the assistant's turn made by `format`, with its reasoning. */
const history = (format: "anthropic" | "openai" | "generic-chat-completion-api", model: string): ReadonlyArray<Turn> => [
  { role: "user", parts: [{ type: "text", text: "Weather in Paris?" }] },
  {
    role: "assistant",
    parts: [
      { type: "reasoning", text: "Need the tool.", signature: "sig", itemId: "rs_1", encrypted: "enc", format, model },
      { type: "text", text: "Checking." },
      { type: "tool-call", id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}", kind: "function" }
    ]
  },
  { role: "user", parts: [{ type: "tool-result", callId: "call_1", name: "get_weather", output: "18C" }] }
]

const bodyFor = async (entry: typeof chat, turns: ReadonlyArray<Turn>, over: Partial<LlmRequest> = {}) =>
  (await collect({ chunks: [""] }, makeRequest(entry, { conversation: { id: "c", system: "Be brief.", turns }, tools, toolChoice: "auto", ...over })))
    .sent[0]!.body

describe("tool calls, results and reasoning in the request", () => {
  test("Messages: tools before system, tool_use with its input, tool_result, signed thinking from the same model", async () => {
    const body = await bodyFor(claude, history("anthropic", "claude-sonnet-4-5"))
    expect(body["tools"]).toEqual([{ name: "get_weather", description: "The weather in a city", input_schema: tools[0]!.parameters }])
    expect(body["tool_choice"]).toEqual({ type: "auto" })
    expect(Object.keys(body).indexOf("tools")).toBeLessThan(Object.keys(body).indexOf("system"))
    expect(body["messages"]).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather in Paris?" }] },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Need the tool.", signature: "sig" },
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } }
        ]
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", content: "18C", cache_control: { type: "ephemeral" } }] }
    ])
    for (const [choice, wire] of [["none", { type: "none" }], ["required", { type: "any" }], [{ name: "get_weather" }, { type: "tool", name: "get_weather" }]] as const) {
      expect((await bodyFor(claude, history("anthropic", "claude-sonnet-4-5"), { toolChoice: choice }))["tool_choice"]).toEqual(wire)
    }
  })

  test("Responses: function tools flat, function_call and function_call_output items, encrypted reasoning from the same model", async () => {
    const body = await bodyFor(gpt, history("openai", "gpt-5.1"))
    expect(body["tools"]).toEqual([{ type: "function", name: "get_weather", description: "The weather in a city", parameters: tools[0]!.parameters }])
    expect(body["tool_choice"]).toBe("auto")
    expect(body["input"]).toEqual([
      { type: "message", role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }] },
      { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Need the tool." }], encrypted_content: "enc" },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking." }] },
      { type: "function_call", call_id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
      { type: "function_call_output", call_id: "call_1", output: "18C" }
    ])
    expect((await bodyFor(gpt, history("openai", "gpt-5.1"), { toolChoice: { name: "get_weather" } }))["tool_choice"]).toEqual({ type: "function", name: "get_weather" })
  })

  test("Chat Completions: tools under function, tool_calls on the assistant message, a role tool message per result", async () => {
    const body = await bodyFor(chat, history("generic-chat-completion-api", "gpt-4.1"))
    expect(body["tools"]).toEqual([{ type: "function", function: { name: "get_weather", description: "The weather in a city", parameters: tools[0]!.parameters } }])
    expect(body["tool_choice"]).toBe("auto")
    expect(body["messages"]).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: "Checking.", tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }] },
      { role: "tool", tool_call_id: "call_1", content: "18C" }
    ])
    expect((await bodyFor(chat, history("generic-chat-completion-api", "gpt-4.1"), { toolChoice: { name: "get_weather" } }))["tool_choice"]).toEqual({ type: "function", function: { name: "get_weather" } })
  })

  test("reasoning made by another format or model is dropped from the request; the visible answer stays", async () => {
    const fromOpenAI = history("openai", "gpt-5.1")
    const toClaude = await bodyFor(claude, fromOpenAI)
    expect(JSON.stringify(toClaude)).not.toContain("Need the tool.")
    expect(JSON.stringify(toClaude)).toContain("Checking.")
    const otherClaude = await bodyFor(claude, history("anthropic", "claude-opus-4-5"))
    expect(JSON.stringify(otherClaude)).not.toContain("\"signature\"")
    const toGpt = await bodyFor(gpt, history("anthropic", "claude-sonnet-4-5"))
    expect(JSON.stringify(toGpt)).not.toContain("encrypted_content")
    expect(JSON.stringify(toGpt)).toContain("Checking.")
    const toChat = await bodyFor(chat, history("anthropic", "claude-sonnet-4-5"))
    expect(JSON.stringify(toChat)).not.toContain("Need the tool.")
  })

  test("without tools nothing about tools is sent, and prompt_cache_key does not change with them", async () => {
    const plain = await bodyFor(gpt, history("openai", "gpt-5.1"), { tools: [], toolChoice: undefined })
    expect(plain).not.toHaveProperty("tools")
    expect(plain).not.toHaveProperty("tool_choice")
    const withTools = await bodyFor(gpt, history("openai", "gpt-5.1"))
    expect(withTools["prompt_cache_key"]).toBe(plain["prompt_cache_key"])
  })
})

describe("a conversation that moves between formats (every pair)", () => {
  const entries = {
    anthropic: claude,
    openai: gpt,
    "generic-chat-completion-api": chat,
    mistral: makeEntry({ baseUrl: "https://api.mistral.ai/v1", model: "mistral-large-latest" })
  } as const
  /** Ids as each format makes them, one with characters Anthropic refuses. */
  const ids = { anthropic: "toolu_01A9", openai: "call_Ab.c|fc_1", "generic-chat-completion-api": "Zq8VbR1c2X3d4E5f6G7h8I9j0K1l2M3n" } as const
  const made = (format: keyof typeof ids): ReadonlyArray<Turn> => {
    const model = format === "anthropic" ? claude.model : format === "openai" ? gpt.model : chat.model
    const turns = history(format, model)
    const swap = (id: string) => (id === "call_1" ? ids[format] : id)
    return turns.map((t): Turn =>
      t.role === "assistant"
        ? { role: "assistant", parts: t.parts.map((p) => (p.type === "tool-call" ? { ...p, id: swap(p.id) } : p)) }
        : { role: "user", parts: t.parts.map((p) => (p.type === "tool-result" ? { ...p, callId: swap(p.callId) } : p)) }
    )
  }
  /** The call's id and its result's id as a body carries them. */
  const idsIn = (target: keyof typeof entries, body: Record<string, unknown>): [string, string] => {
    if (target === "anthropic") {
      const m = body["messages"] as Array<{ content: Array<Record<string, unknown>> }>
      return [String(m[1]!.content.find((b) => b["type"] === "tool_use")!["id"]), String(m[2]!.content[0]!["tool_use_id"])]
    }
    if (target === "openai") {
      const input = body["input"] as Array<Record<string, unknown>>
      return [String(input.find((i) => i["type"] === "function_call")!["call_id"]), String(input.find((i) => i["type"] === "function_call_output")!["call_id"])]
    }
    const m = body["messages"] as Array<Record<string, unknown>>
    const assistant = m.find((x) => x["role"] === "assistant") as { tool_calls: Array<{ id: string }> }
    return [assistant.tool_calls[0]!.id, String(m.find((x) => x["role"] === "tool")!["tool_call_id"])]
  }
  for (const from of ["anthropic", "openai", "generic-chat-completion-api"] as const) {
    for (const to of ["anthropic", "openai", "generic-chat-completion-api", "mistral"] as const) {
      test(`${from} → ${to}: the text, the call and its result carried, ids fitted to the target, reasoning only to its maker`, async () => {
        const body = await bodyFor(entries[to], made(from))
        const text = JSON.stringify(body)
        expect(text).toContain("Checking.")
        expect(text).toContain("18C")
        const [call, result] = idsIn(to, body)
        expect(call).toBe(result)
        if (to === "anthropic") expect(call).toMatch(/^[A-Za-z0-9_-]+$/)
        if (to === "mistral") expect(call).toMatch(/^[A-Za-z0-9]{9}$/)
        if (to === from) expect(call).toBe(ids[from])
        const same = from === to && to !== "generic-chat-completion-api"
        expect(text.includes("Need the tool.")).toBe(same)
      })
    }
  }
  test("tools go in a stable order, whatever order they were given in", async () => {
    const a = { name: "alpha", parameters: { type: "object" } }
    const z = { name: "zulu", parameters: { type: "object" } }
    const one = await bodyFor(claude, history("anthropic", claude.model), { tools: [z, a] })
    const two = await bodyFor(claude, history("anthropic", claude.model), { tools: [a, z] })
    expect(JSON.stringify(one["tools"])).toBe(JSON.stringify(two["tools"]))
    expect((one["tools"] as Array<{ name: string }>).map((t) => t.name)).toEqual(["alpha", "zulu"])
  })
})
