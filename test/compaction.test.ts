// Context that lasts: the view a request carries (summary, recent turns, pruned results), where a summarised span may
// end, a model's window; then, from the compiled binary, a fake server that enforces a small window (llama.cpp's 400
// and Anthropic's "prompt is too long" above it) and a scripted model that reads a large file again and again: a
// 24-step --auto run finishes in Chat Completions and Anthropic, a continued conversation carries the summary, a model
// whose window byok cannot know recovers from the 400, and /compact over a pipe sends its instructions.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cutFor, cutsCleanly, NOTHING_COMPACTED, pruneTo, viewOf, windowOf } from "../src/conversation/compaction.ts"
import type { Turn } from "../src/providers/conversation.ts"
import { byokBinary } from "./lib/binary.ts"
import { sse, sseNamed } from "./lib/http.ts"
import { makeEntry } from "./lib/provider.ts"

const user = (text: string): Turn => ({ role: "user", parts: [{ type: "text", text }] })
const call = (id: string): Turn => ({ role: "assistant", parts: [{ type: "tool-call", kind: "function", id, name: "Read", arguments: "{}" }] })
const result = (id: string, output = "x".repeat(4000)): Turn => ({ role: "user", parts: [{ type: "tool-result", callId: id, name: "Read", output }] })
const answer = (text: string): Turn => ({ role: "assistant", parts: [{ type: "text", text }] })

describe("the view a request carries", () => {
  const turns = [user("fix it"), call("a"), result("a"), call("b"), result("b"), call("c"), result("c"), answer("done"), user("more"), call("d"), result("d")]

  test("a summarised span never ends between a call and its result", () => {
    for (let i = 0; i < turns.length; i++) expect(cutsCleanly(turns, i)).toBe(turns[i]!.role === "assistant" || turns[i]!.parts.every((p) => p.type !== "tool-result"))
    for (const keep of [0, 500, 2000, 5000, 100_000]) {
      const cut = cutFor(turns, NOTHING_COMPACTED, keep)
      if (cut !== undefined) {
        expect(cutsCleanly(turns, cut)).toBe(true)
        // what the request carries from the cut on is valid: every result's call is in it
        const kept = turns.slice(cut)
        const calls = new Set(kept.flatMap((t) => t.parts.flatMap((p) => (p.type === "tool-call" ? [p.id] : []))))
        for (const t of kept) for (const p of t.parts) if (p.type === "tool-result") expect(calls.has(p.callId)).toBe(true)
      }
    }
  })

  test("the summary first, merged with a user turn that follows; results before `pruned` replaced by a line", () => {
    const state = { summary: "The user wants X.", through: 3, pruned: 6 }
    const view = viewOf(turns, state)
    expect(view[0]!.role).toBe("user")
    expect((view[0]!.parts[0] as { text: string }).text).toContain("The user wants X.")
    expect(view[1]).toEqual(turns[3])
    const prunedOutput = (view[2]!.parts[0] as { output: string }).output
    expect(prunedOutput).toMatch(/^\[byok pruned this result to save context: Read gave 1 lines/)
    expect((view[4]!.parts[0] as { output: string }).output).toBe("x".repeat(4000)) // turn 6: not pruned
    const merged = viewOf(turns, { summary: "S", through: 8, pruned: 0 })
    expect(merged[0]!.parts.map((p) => p.type)).toEqual(["text", "text"])
    expect(pruneTo(turns, state).pruned).toBe(turns.length - 4)
    expect(pruneTo(turns, { ...state, pruned: 10 }).pruned).toBe(10) // pruned stays pruned
  })

  test("a model's window: its entry, the server's, the bundled table, else the default for its kind", () => {
    expect(windowOf(makeEntry({ model: "gpt-4o-mini", baseUrl: "https://api.openai.com/v1" }))).toEqual({ tokens: 128_000, source: "table" })
    expect(windowOf(makeEntry({ model: "claude-sonnet-4-5-20250929", baseUrl: "https://api.anthropic.com" }))).toEqual({ tokens: 200_000, source: "table" })
    expect(windowOf(makeEntry({ model: "gpt-4o-mini", baseUrl: "https://api.openai.com/v1", contextWindow: 50_000 }))).toEqual({ tokens: 50_000, source: "config" })
    expect(windowOf(makeEntry({ model: "qwen", baseUrl: "http://127.0.0.1:8080/v1" }), 4096)).toEqual({ tokens: 4096, source: "server" })
    expect(windowOf(makeEntry({ model: "qwen", baseUrl: "http://127.0.0.1:8080/v1" }))).toEqual({ tokens: 8192, source: "default" })
    expect(windowOf(makeEntry({ model: "mystery", baseUrl: "https://example.invalid/v1" }))).toEqual({ tokens: 128_000, source: "default" })
  })
})

// ---- a server with a small window ------------------------------------------------------------------------------------

const WINDOW = 8192
const SUMMARY = "SUMMARY-MARK: the user asked to read big.txt many times; it was read"

interface Fake {
  readonly url: string
  readonly requests: Array<{ readonly body: Record<string, unknown>; readonly summary: boolean; readonly tokens: number; readonly refused: boolean }>
  readonly stop: () => void
}

/** The prompt's size as this server counts it: its JSON, four characters a token (as byok counts: the margin decides). */
const tokensOf = (body: Record<string, unknown>) => Math.ceil(JSON.stringify([body["messages"], body["system"], body["tools"]]).length / 4)

/**
 * A fake model behind a window: a request above it gets the overflow error of its API (llama.cpp's 400 with n_ctx,
 * or Anthropic's "prompt is too long"); a summary request (byok's summary system prompt) gets a summary; any other
 * request is the next of `steps` calls of Read on big.txt, then the final answer.
 */
const windowed = (format: "chat" | "anthropic", steps: number, windows: Readonly<Record<string, number>> = {}): Fake => {
  const requests: Fake["requests"] = []
  let step = 0
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.method !== "POST") return new Response("", { status: 404 })
      const body = await req.json() as Record<string, unknown>
      const system = JSON.stringify(body["system"] ?? (body["messages"] as Array<{ role: string; content: unknown }>).find((m) => m.role === "system")?.content ?? "")
      const summary = system.includes("You summarise a conversation")
      const tokens = tokensOf(body)
      const refused = tokens + Number(body["max_tokens"] ?? 0) > (windows[String(body["model"])] ?? WINDOW)
      requests.push({ body, summary, tokens, refused })
      if (refused) {
        return format === "chat"
          ? Response.json({ error: { code: 400, message: "the request exceeds the available context size, try increasing it", type: "exceed_context_size_error", n_prompt_tokens: tokens, n_ctx: WINDOW } }, { status: 400 })
          : Response.json({ type: "error", error: { type: "invalid_request_error", message: `prompt is too long: ${tokens} tokens > ${WINDOW} maximum` } }, { status: 400 })
      }
      const text = summary ? SUMMARY : step >= steps ? "Read it 24 times." : ""
      const toolCall = !summary && step < steps ? { id: `call_${step}`, args: JSON.stringify({ file_path: "big.txt", offset: 1 + (step % 2) }) } : undefined
      if (!summary) step++
      const stream = format === "chat"
        ? sse(
          ...(text !== "" ? [{ choices: [{ index: 0, delta: { content: text }, finish_reason: null }] }] : []),
          ...(toolCall !== undefined
            ? [{ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: toolCall.id, type: "function", function: { name: "Read", arguments: toolCall.args } }] }, finish_reason: null }] }]
            : []),
          { choices: [{ index: 0, delta: {}, finish_reason: toolCall !== undefined ? "tool_calls" : "stop" }] },
          { choices: [], usage: { prompt_tokens: tokens, completion_tokens: 20 } },
          "[DONE]"
        )
        : sseNamed(
          ["message_start", { type: "message_start", message: { model: "m", usage: { input_tokens: tokens, output_tokens: 1 } } }],
          ...(text !== ""
            ? [["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }] as [string, unknown]]
            : []),
          ...(toolCall !== undefined
            ? [
              ["content_block_start", { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: toolCall.id, name: "Read", input: {} } }] as [string, unknown],
              ["content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: toolCall.args } }] as [string, unknown],
              ["content_block_stop", { type: "content_block_stop", index: 1 }] as [string, unknown]
            ]
            : []),
          ["message_delta", { type: "message_delta", delta: { stop_reason: toolCall !== undefined ? "tool_use" : "end_turn" }, usage: { output_tokens: 20 } }],
          ["message_stop", { type: "message_stop" }]
        )
      return new Response(stream, { headers: { "content-type": "text/event-stream" } })
    }
  })
  return { url: `http://127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) }
}

let bin: string
beforeAll(() => {
  bin = byokBinary()
}, 120_000)

const workspace = () => {
  const dir = mkdtempSync(join(tmpdir(), "byok-compaction-"))
  // about 1,500 tokens a read: five of them do not fit an 8,192-token window
  writeFileSync(join(dir, "big.txt"), Array.from({ length: 150 }, (_, i) => `line ${i}: ${"lorem ipsum dolor sit amet ".repeat(1)}`).join("\n") + "\n")
  return dir
}

const homeFor = (entry: Record<string, unknown>, settings: Record<string, unknown> = {}) => {
  const home = mkdtempSync(join(tmpdir(), "byok-compaction-home-"))
  Bun.spawnSync(["mkdir", "-p", join(home, ".factory")])
  writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({ ...settings, customModels: [{ displayName: "M", apiKey: "local-key-0000000000", maxOutputTokens: 1024, ...entry }] }))
  return home
}

const run = async (args: ReadonlyArray<string>, cwd: string, home: string, data: string, input?: string) => {
  const proc = Bun.spawn([bin, ...args], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1", HOME: home, BYOK_HOME: data, BYOK_MAX_RETRIES: "0" },
    stdin: input !== undefined ? new Blob([input]) : "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code }
}

const fakes: Array<Fake> = []
afterAll(() => {
  for (const f of fakes) f.stop()
})

describe("a long agent run in a small window", () => {
  for (const format of ["chat", "anthropic"] as const) {
    test(`${format}: 24 steps of reading a large file in an 8,192-token window finish; the summary goes on with exec -c`, async () => {
      const fake = windowed(format, 24)
      fakes.push(fake)
      const entry = format === "chat"
        ? { model: "qwen", baseUrl: `${fake.url}/v1`, provider: "generic-chat-completion-api", contextWindow: WINDOW }
        : { model: "claude-sonnet-4-5", baseUrl: fake.url, provider: "anthropic", contextWindow: WINDOW }
      const home = homeFor(entry)
      const dir = workspace()
      const data = mkdtempSync(join(tmpdir(), "byok-compaction-data-"))
      const r = await run(["exec", "-m", "M", "--auto", "off", "Read big.txt 24 times"], dir, home, data)
      expect(r.stderr).toContain("compacted: ")
      expect(r.code).toBe(0)
      expect(r.stdout).toContain("Read it 24 times.")
      const work = fake.requests.filter((q) => !q.summary)
      expect(work.filter((q) => !q.refused)).toHaveLength(25)
      expect(fake.requests.some((q) => q.summary)).toBe(true)
      // byok knew the window: nothing was sent that the server refused
      expect(fake.requests.filter((q) => q.refused)).toHaveLength(0)
      expect(JSON.stringify(work.at(-1)!.body)).toContain(SUMMARY)
      // the conversation goes on from its summary
      const before = fake.requests.length
      const next = await run(["exec", "-m", "M", "-c", "--auto", "off", "What did you do?"], dir, home, data)
      expect(next.code).toBe(0)
      const sent = fake.requests.slice(before).filter((q) => !q.summary && !q.refused)
      expect(JSON.stringify(sent[0]!.body)).toContain(SUMMARY)
      expect(sent[0]!.tokens).toBeLessThan(WINDOW)
    }, 120_000)
  }

  test("a model whose window byok cannot know recovers from the server's 400: compacts once, sends once more", async () => {
    const fake = windowed("chat", 8)
    fakes.push(fake)
    // the entry claims more than the server serves: the first request that does not fit is refused
    const home = homeFor({ model: "qwen", baseUrl: `${fake.url}/v1`, provider: "generic-chat-completion-api", contextWindow: 100_000 })
    const r = await run(["exec", "-m", "M", "--auto", "off", "Read big.txt"], workspace(), home, mkdtempSync(join(tmpdir(), "byok-compaction-data-")))
    expect(r.code).toBe(0)
    expect(fake.requests.filter((q) => q.refused).length).toBe(1)
    expect(r.stderr).toContain("compacted: ")
    expect(r.stdout).toContain("Read it 24 times.")
  }, 120_000)

  test("-o stream-json says a compaction as an event of its own", async () => {
    const fake = windowed("chat", 10)
    fakes.push(fake)
    const home = homeFor({ model: "qwen", baseUrl: `${fake.url}/v1`, provider: "generic-chat-completion-api", contextWindow: WINDOW })
    const r = await run(["exec", "-m", "M", "--auto", "off", "-o", "stream-json", "Read big.txt"], workspace(), home, mkdtempSync(join(tmpdir(), "byok-compaction-data-")))
    expect(r.code).toBe(0)
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; message?: string })
    expect(events.some((e) => e.type === "compaction" && (e.message ?? "").startsWith("compacted: "))).toBe(true)
    expect(events.at(-1)!.type).toBe("result")
  }, 120_000)

  test("a conversation moved to a model with a smaller window is compacted on its next request", async () => {
    const fake = windowed("chat", 0, { "qwen-large": 1_000_000 })
    fakes.push(fake)
    const home = mkdtempSync(join(tmpdir(), "byok-compaction-home-"))
    Bun.spawnSync(["mkdir", "-p", join(home, ".factory")])
    const entry = (displayName: string, contextWindow: number) => ({ displayName, model: displayName === "Large" ? "qwen-large" : "qwen", baseUrl: `${fake.url}/v1`, provider: "generic-chat-completion-api", apiKey: "local-key-0000000000", maxOutputTokens: 1024, contextWindow })
    writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({ customModels: [entry("Large", 1_000_000), entry("Small", WINDOW)] }))
    const long = (i: number) => `question ${i}: ${"a long question about the file and its many lines ".repeat(180)}`
    const input = [long(1), long(2), long(3), long(4), long(5), "/model Small", "and now?", ""].join("\n")
    const r = await run(["-m", "Large"], workspace(), home, mkdtempSync(join(tmpdir(), "byok-compaction-data-")), input)
    expect(r.code).toBe(0)
    // (the span is longer than one summary request may carry in the small window: it is summarised in pieces)
    expect(fake.requests.filter((q) => q.summary).length).toBeGreaterThanOrEqual(1)
    expect(fake.requests.filter((q) => q.refused)).toHaveLength(0)
    const last = fake.requests.at(-1)!
    expect(last.refused).toBe(false)
    expect(JSON.stringify(last.body)).toContain(SUMMARY)
  }, 120_000)

  test("autoCompact: false leaves the request to fail, with the advice to /compact", async () => {
    const fake = windowed("chat", 8)
    fakes.push(fake)
    const home = homeFor({ model: "qwen", baseUrl: `${fake.url}/v1`, provider: "generic-chat-completion-api", contextWindow: WINDOW }, { autoCompact: false })
    const r = await run(["exec", "-m", "M", "--auto", "off", "Read big.txt"], workspace(), home, mkdtempSync(join(tmpdir(), "byok-compaction-data-")))
    expect(r.code).not.toBe(0)
    expect(fake.requests.some((q) => q.summary)).toBe(false)
    expect(r.stderr).toContain("/compact")
  }, 120_000)
})

describe("byok models says each model's window and where it came from", () => {
  test("a CONTEXT column, and context in --json", async () => {
    const home = mkdtempSync(join(tmpdir(), "byok-compaction-home-"))
    Bun.spawnSync(["mkdir", "-p", join(home, ".factory")])
    writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({
      customModels: [
        { displayName: "Mini", model: "gpt-4o-mini", baseUrl: "https://api.openai.com/v1", apiKey: "k-0000000000000", provider: "openai", maxOutputTokens: 100 },
        { displayName: "Small", model: "qwen", baseUrl: "http://127.0.0.1:9/v1", apiKey: "local", provider: "generic-chat-completion-api", maxOutputTokens: 100, contextWindow: 16384 }
      ]
    }))
    const data = mkdtempSync(join(tmpdir(), "byok-compaction-data-"))
    const table = await run(["models"], home, home, data)
    expect(table.stdout).toMatch(/CONTEXT/)
    expect(table.stdout).toMatch(/Mini .* 128k table/)
    expect(table.stdout).toMatch(/Small .* 16\.4k config/)
    const json = JSON.parse((await run(["models", "--json"], home, home, data)).stdout) as Array<{ displayName: string; context: unknown }>
    expect(json.find((m) => m.displayName === "Mini")!.context).toEqual({ tokens: 128_000, source: "table" })
  }, 60_000)
})

describe("/compact and /context in the chat", () => {
  test("/compact over a pipe sends the instructions and drops the old turns; /context shows the parts", async () => {
    const fake = windowed("chat", 0)
    fakes.push(fake)
    const home = homeFor({ model: "qwen", baseUrl: `${fake.url}/v1`, provider: "generic-chat-completion-api", contextWindow: 100_000 })
    const r = await run(["-m", "M"], workspace(), home, mkdtempSync(join(tmpdir(), "byok-compaction-data-")), "first question\nsecond question\n/context\n/compact keep the file names\n/context\nthird question\n")
    expect(r.code).toBe(0)
    const summaries = fake.requests.filter((q) => q.summary)
    expect(summaries).toHaveLength(1)
    expect(JSON.stringify(summaries[0]!.body)).toContain("keep the file names")
    expect(JSON.stringify(summaries[0]!.body)).toContain("first question")
    const last = JSON.stringify(fake.requests.at(-1)!.body)
    expect(last).toContain(SUMMARY)
    expect(last).not.toContain("first question")
    expect(last).toContain("third question")
    expect(r.stdout).toMatch(/context: [\d,]+ of 100,000 tokens \(\d+%; the window from the entry.s contextWindow\)/)
    expect(r.stdout).toContain("conversation")
    expect(r.stdout).toMatch(/summary +[\d,]+/)
  }, 120_000)
})
