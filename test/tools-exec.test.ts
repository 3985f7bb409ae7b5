// byok exec with tools, from the compiled binary: --tools in each API's shape, --tool-choice, the calls the model
// asks for (printed, never run) in text, -o json and stream-json, and a conversation that goes on after them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { homeWithModels, oneModelPerFormat } from "./lib/home.ts"
import { CANARY, fixture } from "./lib/provider.ts"
import { runBinary } from "./lib/run.ts"
import { type FakeServer, sseResponse, startServer } from "./lib/server.ts"

let bin: string
let server: FakeServer
let home: string
let dir: string

beforeAll(() => {
  bin = byokBinary()
  server = startServer()
  dir = mkdtempSync(join(tmpdir(), "byok-tools-"))
  home = homeWithModels(oneModelPerFormat(server.url))
  server.handle((req) =>
    req.path === "/v1/messages"
      ? sseResponse(fixture("anthropic", "tool-use"))
      : req.path === "/v1/responses"
      ? sseResponse(fixture("openai-responses", "tool-calls"))
      : sseResponse(fixture("chat-completions", "tool-calls-parallel"))
  )
}, 60_000)

afterAll(() => server?.stop())

const run = async (args: ReadonlyArray<string>, data = mkdtempSync(join(tmpdir(), "byok-tools-data-"))) => {
  const r = await runBinary(bin, args, { HOME: home, BYOK_HOME: data, BYOK_MAX_RETRIES: "0" })
  expect(r.stdout + r.stderr).not.toContain(CANARY)
  return r
}

const weather = { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
const file = (name: string, value: unknown) => {
  const path = join(dir, name)
  writeFileSync(path, JSON.stringify(value))
  return path
}

describe("byok exec --tools", () => {
  test("OpenAI's, the flat Responses and Anthropic's shapes are read alike, and sent in each format's own", async () => {
    const shapes = [
      file("openai.json", [{ type: "function", function: { name: "get_weather", description: "Weather", parameters: weather } }]),
      file("flat.json", { tools: [{ type: "function", name: "get_weather", description: "Weather", parameters: weather }] }),
      file("anthropic.json", [{ name: "get_weather", description: "Weather", input_schema: weather }])
    ]
    for (const tools of shapes) {
      for (const [model, path] of [["Chat", "/v1/chat/completions"], ["Claude", "/v1/messages"], ["GPT", "/v1/responses"]] as const) {
        const r = await run(["exec", "-m", model, "--tools", tools, "--tool-choice", "get_weather", "Weather in Paris?"])
        expect(r.code).toBe(0)
        const body = server.requests.at(-1)!.body as Record<string, unknown>
        expect(server.requests.at(-1)!.path).toBe(path)
        const sent = JSON.stringify(body["tools"])
        expect(sent).toContain("get_weather")
        expect(sent).toContain("\"city\"")
        expect(body["tool_choice"]).toEqual(
          model === "Chat" ? { type: "function", function: { name: "get_weather" } } : model === "Claude" ? { type: "tool", name: "get_weather" } : { type: "function", name: "get_weather" }
        )
      }
    }
  })

  test("text: the answer, then each call as a JSON line on stdout; stderr says byok ran none; exit 0", async () => {
    const tools = file("t.json", [{ name: "get_weather", input_schema: weather }])
    const r = await run(["exec", "-m", "Claude", "--tools", tools, "Weather in Paris?"])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe([
      "Let me check.",
      JSON.stringify({ id: "toolu_01A", name: "get_weather", arguments: { city: "Paris" } }),
      JSON.stringify({ id: "toolu_01B", name: "get_time", arguments: { tz: "Europe/Paris" } }),
      ""
    ].join("\n"))
    expect(r.stderr).toContain("byok ran none of them")
  })

  test("-o json carries tool_calls and stop_reason tool-calls; stream-json the tool events, in order", async () => {
    const tools = file("t.json", [{ name: "get_weather", input_schema: weather }])
    const json = JSON.parse((await run(["exec", "-m", "GPT", "--tools", tools, "-o", "json", "Weather?"])).stdout)
    expect(json.stop_reason).toBe("tool-calls")
    expect(json.is_error).toBe(false)
    expect(json.tool_calls).toEqual([
      { id: "call_1", name: "get_weather", arguments: { city: "Paris" } },
      { id: "call_2", name: "apply_grammar", arguments: "raw input", kind: "custom_tool_call" },
      { id: "call_3", name: "apply_patch_call", arguments: { operation: { type: "update_file", path: "a.txt", diff: "@@\n-x\n+y" } }, kind: "apply_patch_call" }
    ])
    const lines = (await run(["exec", "-m", "Chat", "--tools", tools, "-o", "stream-json", "Weather?"])).stdout.trim().split("\n").map((l) => JSON.parse(l))
    const kinds = lines.map((l) => l.type).filter((t: string) => t.startsWith("tool_call"))
    expect(kinds[0]).toBe("tool_call_start")
    expect(kinds.at(-1)).toBe("tool_call_end")
    expect(lines.filter((l) => l.type === "tool_call_start").map((l) => l.name)).toEqual(["get_weather", "get_time"])
    expect(lines.at(-1)).toMatchObject({ type: "result", stop_reason: "tool-calls" })
  })

  test("a conversation goes on after calls byok did not run: they are sent back answered as not run, with the calls", async () => {
    const tools = file("t.json", [{ name: "get_weather", input_schema: weather }])
    const data = mkdtempSync(join(tmpdir(), "byok-tools-data-"))
    await run(["exec", "-m", "Claude", "--tools", tools, "Weather in Paris?"], data)
    server.handle(() => sseResponse(fixture("anthropic", "plain-text")))
    const r = await run(["exec", "-c", "never mind"], data)
    expect(r.code).toBe(0)
    const messages = (server.requests.at(-1)!.body as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> }).messages
    expect(messages[1]!.content.map((b) => b["type"])).toEqual(["thinking", "text", "tool_use", "tool_use"])
    expect(messages[2]!.content.map((b) => [b["type"], b["tool_use_id"] ?? b["text"]])).toEqual([
      ["tool_result", "toolu_01A"],
      ["tool_result", "toolu_01B"],
      ["text", "never mind"]
    ])
    server.handle((req) =>
      req.path === "/v1/messages" ? sseResponse(fixture("anthropic", "tool-use")) : sseResponse(fixture("chat-completions", "tool-calls-parallel"))
    )
  })

  test("bad input: a missing file, JSON that is no list of tools, a tool with no name, an unknown --tool-choice, --tool-choice alone", async () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["--tools", join(dir, "nope.json")], "no such file"],
      [["--tools", file("bad.json", { not: "tools" })], "expected a JSON list of tool definitions"],
      [["--tools", file("noname.json", [{ type: "function", function: { parameters: weather } }])], "tools[0].function.name: missing"],
      [["--tools", file("ok.json", [{ name: "get_weather" }]), "--tool-choice", "get_wether"], "did you mean get_weather?"],
      [["--tool-choice", "required"], "--tool-choice goes with --tools FILE"]
    ]
    const before = server.requests.length
    for (const [args, says] of cases) {
      const r = await run(["exec", "-m", "Chat", ...args, "hi"])
      expect([args, r.code]).toEqual([args, 2])
      expect(r.stderr).toContain(says)
    }
    expect(server.requests.length).toBe(before)
  })
})

describe("a call written as text", () => {
  test("with tools offered, a Hermes <tool_call> answer is raised as a call, marked recovered; said on stderr", async () => {
    const tools = file("t.json", [{ name: "get_weather", input_schema: weather }])
    const text = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lima\"}}\n</tool_call>"
    server.handle(() => sseResponse(
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text } }] })}\n\n` +
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`))
    const r = await run(["exec", "-m", "Chat", "--tools", tools, "-o", "json", "Weather in Lima?"])
    const json = JSON.parse(r.stdout)
    expect(json.stop_reason).toBe("tool-calls")
    expect(json.tool_calls).toEqual([{ id: expect.stringMatching(/^call_/), name: "get_weather", arguments: { city: "Lima" }, recovered: true }])
    expect(r.stderr).toContain("wrote its tool call as text")
    server.handle((req) =>
      req.path === "/v1/messages" ? sseResponse(fixture("anthropic", "tool-use")) : sseResponse(fixture("chat-completions", "tool-calls-parallel"))
    )
  })
})

describe("caching through a tool loop", () => {
  test("the second request of a loop starts with the first's bytes (tools, system, messages), so it reads what the first wrote", async () => {
    const tools = file("loop.json", [{ name: "get_weather", input_schema: weather }, { name: "alpha", input_schema: weather }])
    const data = mkdtempSync(join(tmpdir(), "byok-tools-data-"))
    server.handle(() => sseResponse(fixture("anthropic", "tool-use")))
    await run(["exec", "-m", "Claude", "--system", "You check the weather.", "--tools", tools, "Weather in Paris?"], data)
    const first = server.requests.at(-1)!.body as Record<string, unknown>
    server.handle(() => sseResponse(fixture("anthropic", "plain-text")))
    await run(["exec", "-c", "--tools", tools, "and tomorrow?"], data)
    const second = server.requests.at(-1)!.body as Record<string, unknown>
    // Breakpoints move with the conversation; the content before them must not change by a byte.
    const unmarked = (v: unknown) => JSON.stringify(v, (k, x) => (k === "cache_control" ? undefined : x))
    expect(unmarked(second["tools"])).toBe(unmarked(first["tools"]))
    expect(JSON.stringify(second["system"])).toBe(JSON.stringify(first["system"]))
    const before = first["messages"] as Array<unknown>
    expect(unmarked((second["messages"] as Array<unknown>).slice(0, before.length))).toBe(unmarked(before))
    // The first request's breakpoint was on its last block: the second's prefix reaches past it.
    expect(JSON.stringify(before.at(-1))).toContain("cache_control")
    expect((second["messages"] as Array<unknown>).length).toBeGreaterThan(before.length)
    server.handle((req) =>
      req.path === "/v1/messages" ? sseResponse(fixture("anthropic", "tool-use")) : sseResponse(fixture("chat-completions", "tool-calls-parallel"))
    )
  })
})
