// Reasoning effort: -r, /effort and droid's reasoningEffort (per model and top-level), and what each format is sent
// for it; reasoning shown dimmed in the chat.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ReasoningEffort } from "../src/config/schema.ts"
import { noRoomToThink } from "../src/providers/anthropic/request.ts"
import { byokBinary } from "./lib/binary.ts"
import { homeWithModels } from "./lib/home.ts"
import { collect, fixture, makeEntry, makeRequest } from "./lib/provider.ts"
import { runBinary } from "./lib/run.ts"
import { type FakeServer, sseResponse, startServer } from "./lib/server.ts"
import { type Pane, startPane } from "./lib/tmux.ts"

const bodyFor = async (entry: ReturnType<typeof makeEntry>, effort: ReasoningEffort | undefined, maxOutputTokens = 16000) =>
  (await collect({ chunks: [""] }, makeRequest(entry, { reasoningEffort: effort, maxOutputTokens }))).sent[0]!.body

describe("what each format is sent for an effort", () => {
  const claude = makeEntry({ provider: "anthropic", baseUrl: "https://api.anthropic.com", model: "claude-sonnet-4-5" })
  const gpt = makeEntry({ provider: "openai", baseUrl: "https://api.openai.com/v1", model: "gpt-5.1" })
  test("Messages: thinking with a budget below max_tokens; none when the cap leaves no room; nothing for off/none", async () => {
    expect((await bodyFor(claude, "low"))["thinking"]).toEqual({ type: "enabled", budget_tokens: 2048 })
    // the budget leaves at least 1,024 tokens of max_tokens for the answer, and is at least 1,024 itself
    expect((await bodyFor(claude, "high"))["thinking"]).toEqual({ type: "enabled", budget_tokens: 16000 - 1024 })
    expect((await bodyFor(claude, "low", 3000))["thinking"]).toEqual({ type: "enabled", budget_tokens: 3000 - 1024 })
    expect((await bodyFor(claude, "low", 2048))["thinking"]).toEqual({ type: "enabled", budget_tokens: 1024 })
    expect(await bodyFor(claude, "medium", 2047)).not.toHaveProperty("thinking")
    expect(await bodyFor(claude, "medium", 1000)).not.toHaveProperty("thinking")
    expect(noRoomToThink("medium", 2047, "claude-sonnet-4-5")).toContain("needs an output cap of at least 2,048 tokens")
    expect(noRoomToThink("medium", 2048, "claude-sonnet-4-5")).toBeUndefined()
    expect(noRoomToThink("medium", 500, "claude-opus-4-6")).toBeUndefined()
    for (const e of ["off", "none", undefined] as const) expect(await bodyFor(claude, e)).not.toHaveProperty("thinking")
  })
  test("Messages on Claude 4.6 and later: adaptive thinking with output_config.effort, no budget", async () => {
    for (const model of ["claude-opus-4-6", "claude-sonnet-4.6", "claude-opus-4-7", "claude-opus-5"]) {
      const body = await bodyFor(makeEntry({ provider: "anthropic", baseUrl: "https://api.anthropic.com", model }), "medium")
      expect([model, body["thinking"], body["output_config"]]).toEqual([model, { type: "adaptive" }, { effort: "medium" }])
    }
    for (const model of ["claude-sonnet-4-5", "claude-opus-4-1", "claude-3-7-sonnet"]) {
      const body = await bodyFor(makeEntry({ provider: "anthropic", baseUrl: "https://api.anthropic.com", model }), "medium")
      expect([model, (body["thinking"] as { type: string }).type]).toEqual([model, "enabled"])
    }
  })
  test("Responses: reasoning.effort with streamed summaries and the encrypted reasoning back (store is false)", async () => {
    expect(await bodyFor(gpt, "medium")).toMatchObject({ reasoning: { effort: "medium", summary: "auto" }, include: ["reasoning.encrypted_content"] })
    expect((await bodyFor(gpt, "none"))["reasoning"]).toEqual({ effort: "none" })
    expect(await bodyFor(gpt, "off")).not.toHaveProperty("reasoning")
  })
  test("Chat Completions: OpenAI's reasoning_effort, OpenRouter's reasoning.effort, Ollama's think, llama.cpp's and vLLM's enable_thinking", async () => {
    const at = (baseUrl: string) => makeEntry({ baseUrl })
    expect((await bodyFor(at("https://api.openai.com/v1"), "high"))["reasoning_effort"]).toBe("high")
    expect((await bodyFor(at("https://openrouter.ai/api/v1"), "low"))["reasoning"]).toEqual({ effort: "low" })
    expect((await bodyFor(at("http://localhost:11434/v1"), "low"))["think"]).toBe(true)
    expect((await bodyFor(at("http://localhost:11434/v1"), "none"))["think"]).toBe(false)
    expect((await bodyFor(at("http://127.0.0.1:8080/v1"), "medium"))["chat_template_kwargs"]).toEqual({ enable_thinking: true })
    expect((await bodyFor(at("http://127.0.0.1:8000/v1"), "none"))["chat_template_kwargs"]).toEqual({ enable_thinking: false })
    const off = await bodyFor(at("https://api.openai.com/v1"), "off")
    for (const field of ["reasoning_effort", "reasoning", "think", "chat_template_kwargs"]) expect(off).not.toHaveProperty(field)
  })
})

let bin: string
let server: FakeServer
let panes: Array<Pane> = []

beforeAll(() => {
  bin = byokBinary()
  server = startServer()
  server.handle(() => sseResponse(fixture("chat-completions", "deepseek-reasoning")))
}, 60_000)
afterEach(() => {
  for (const p of panes) p.stop()
  panes = []
})
afterAll(() => server?.stop())

const homeWith = ({ customModels, ...settings }: { customModels: ReadonlyArray<Record<string, unknown>> } & Record<string, unknown>) =>
  homeWithModels(customModels, settings)
const model = (displayName: string, over: Record<string, unknown> = {}) => ({
  displayName, model: "gpt-5.1", baseUrl: `${server.url}/v1`, apiKey: "test-key-0000000000000000", provider: "generic-chat-completion-api", maxOutputTokens: 500, ...over
})
const run = (args: ReadonlyArray<string>, home: string, stdin?: string) =>
  runBinary(bin, args, { HOME: home, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-effort-data-")), BYOK_MAX_RETRIES: "0" }, stdin)
const sentEffort = () => (server.requests.at(-1)!.body as Record<string, unknown>)["reasoning_effort"]

describe("where the effort comes from", () => {
  test("droid's reasoningEffort per model, else top-level; -r over both; a bad -r is a usage error", async () => {
    const home = homeWith({ reasoningEffort: "low", customModels: [model("Own", { reasoningEffort: "high" }), model("Default")] })
    await run(["exec", "-m", "Own", "hi"], home)
    expect(sentEffort()).toBe("high")
    await run(["exec", "-m", "Default", "hi"], home)
    expect(sentEffort()).toBe("low")
    await run(["exec", "-m", "Own", "-r", "medium", "hi"], home)
    expect(sentEffort()).toBe("medium")
    await run(["-m", "Default", "--reasoning-effort", "none", "exec", "hi"], home)
    expect(sentEffort()).toBe("none")
    const bad = await run(["exec", "-m", "Own", "-r", "extreme", "hi"], home)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--reasoning-effort must be one of off, none, low, medium, high")
    const none = homeWith({ customModels: [model("Plain")] })
    await run(["exec", "-m", "Plain", "hi"], none)
    expect(server.requests.at(-1)!.body).not.toHaveProperty("reasoning_effort")
  })
  test("/effort in the chat sets it for the chat; reasoning shows dimmed before the answer on a terminal", async () => {
    const home = homeWith({ customModels: [model("M")] })
    const piped = await run(["-m", "M"], home, "/effort high\nhi\n/effort\n")
    expect(sentEffort()).toBe("high")
    expect(piped.stdout).toContain("Reasoning effort: high (set for this chat)")
    // Piped: the answer alone on stdout, without its reasoning.
    expect(piped.stdout).not.toContain("Thinking.")
    const pane = startPane([bin, "-m", "M"], { HOME: home, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-effort-data-")), BYOK_MAX_RETRIES: "0" })
    panes.push(pane)
    await pane.waitFor("/help for commands")
    pane.line("hi")
    const screen = await pane.waitFor(/Thinking\.\n\n42/)
    expect(pane.screenWithEscapes()).toContain("\x1b[2mThinking.")
    expect(screen).toContain("42")
  })
})
