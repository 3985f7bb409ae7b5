// byok's Streamable HTTP transport against a fake server that does what the spec allows and effect's transport did
// not take: a response stream closed early (resumed with GET and Last-Event-ID after the server's retry), a session
// the server forgot (404: initialised again, once), a server's own requests (elicitation, roots) on the call's stream
// and on its GET stream. byok exec runs through test/conformance/client.ts (a fake model that calls the tool).
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { homeWithModels } from "./lib/home.ts"
import { startPane } from "./lib/tmux.ts"

type Message = { jsonrpc: "2.0"; id?: number | string | undefined; method?: string; params?: Record<string, unknown>; result?: unknown }

const DRIVER = resolve("test/conformance/client.ts")
const encoder = new TextEncoder()
const event = (lines: string) => encoder.encode(`${lines}\n\n`)
const message = (value: Message, id?: string) => event(`${id !== undefined ? `id: ${id}\n` : ""}event: message\ndata: ${JSON.stringify(value)}`)

interface Seen {
  initialize: Array<Record<string, unknown>>
  gets: Array<{ lastEventId: string | null; at: number }>
  closedAt: number
  answers: Map<string | number, unknown>
  deletes: number
  progressToken: unknown
}

/** A Streamable HTTP server offering one tool whose call behaves as `kind` says. */
const fakeServer = (kind: "resume" | "ask" | "expire" | "roots" | "progress" | "page") => {
  const seen: Seen = { initialize: [], gets: [], closedAt: 0, answers: new Map(), deletes: 0, progressToken: undefined }
  const waiting = new Map<string | number, (value: unknown) => void>()
  let session = 0
  let calls = 0
  const answerOf = (id: string | number) =>
    new Promise<unknown>((resolve) => (seen.answers.has(id) ? resolve(seen.answers.get(id)) : waiting.set(id, resolve)))
  const json = (value: unknown, headers: Record<string, string> = {}) => Response.json(value, { headers: { "mcp-session-id": `s${session}`, ...headers } })
  const stream = (write: (push: (bytes: Uint8Array) => void) => Promise<void>) =>
    new Response(
      new ReadableStream({
        async start(controller) {
          await write((bytes) => controller.enqueue(bytes))
          controller.close()
        }
      }),
      { headers: { "content-type": "text/event-stream", "mcp-session-id": `s${session}` } }
    )
  const result = (id: number | string | undefined, text: string): Message => ({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text }] } })
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 30,
    async fetch(req) {
      const sessionHeader = req.headers.get("mcp-session-id")
      if (req.method === "DELETE") {
        seen.deletes++
        return new Response(null, { status: 200 })
      }
      if (req.method === "GET") {
        seen.gets.push({ lastEventId: req.headers.get("last-event-id"), at: performance.now() })
        if (kind === "resume" && req.headers.get("last-event-id") === "p1") {
          return stream(async (push) => push(message(result(2, "resumed"), "p2")))
        }
        if (kind === "roots" && req.headers.get("last-event-id") === null) {
          // The server's own stream: a request of its own, and a log line.
          return stream(async (push) => {
            push(message({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "hello from the GET stream" } }, "g1"))
            push(message({ jsonrpc: "2.0", id: "r1", method: "roots/list", params: {} }, "g2"))
            await answerOf("r1")
          })
        }
        return new Response(null, { status: 405 })
      }
      const body = await req.json() as Message
      if (body.method === undefined && body.id !== undefined) {
        // The client's answer to a request of the server's.
        seen.answers.set(body.id, body)
        waiting.get(body.id)?.(body)
        return new Response(null, { status: 202 })
      }
      if (body.method === "initialize") {
        session++
        seen.initialize.push(body.params ?? {})
        return json({ jsonrpc: "2.0", id: body.id, result: { protocolVersion: "2025-11-25", capabilities: { tools: {}, logging: {} }, serverInfo: { name: "fake", version: "1" } } })
      }
      if (sessionHeader !== `s${session}`) return new Response("unknown session", { status: 404 })
      if (body.id === undefined) return new Response(null, { status: 202 })
      if (body.method === "tools/list") {
        return json({ jsonrpc: "2.0", id: body.id, result: { tools: [{ name: kind, description: "a tool", inputSchema: { type: "object", properties: {} } }] } })
      }
      if (body.method === "tools/call") {
        calls++
        if (kind === "resume") {
          // A priming event with its id and retry, then the stream closes with no response: the client resumes.
          return stream(async (push) => {
            push(event("id: p1\nretry: 300\ndata: "))
            await Bun.sleep(20)
            seen.closedAt = performance.now()
          })
        }
        if (kind === "progress") {
          // A long call (1.5 s, past a 1 s limit) that says how it goes every 200 ms: the limit starts again each time.
          const token = (body.params?.["_meta"] as Record<string, unknown> | undefined)?.["progressToken"]
          seen.progressToken = token
          return stream(async (push) => {
            for (let i = 1; i <= 7; i++) {
              await Bun.sleep(200)
              push(message({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: token, progress: i, total: 7, message: "working" } }))
            }
            push(message(result(body.id, "finished")))
          })
        }
        if (kind === "expire" && calls === 1) {
          // The server restarted and forgot the session.
          session++
          return new Response("unknown session", { status: 404 })
        }
        if (kind === "page") {
          // URL mode: a page for the person to open.
          return stream(async (push) => {
            push(message({ jsonrpc: "2.0", id: 98, method: "elicitation/create", params: { mode: "url", elicitationId: "e1", url: "https://auth.example/consent?x=1", message: "Grant access" } }))
            const answer = await answerOf(98)
            push(message(result(body.id, JSON.stringify(answer))))
          })
        }
        if (kind === "ask") {
          return stream(async (push) => {
            push(message({
              jsonrpc: "2.0",
              id: 99,
              method: "elicitation/create",
              params: {
                message: "Who are you? \x1b[31mred\x1b[0m",
                requestedSchema: {
                  type: "object",
                  properties: { name: { type: "string", default: "Ada" }, n: { type: "integer", default: 3 }, mood: { type: "string", enum: ["ok", "fine"], default: "meh" } },
                  required: ["name"]
                }
              }
            }))
            const answer = await answerOf(99)
            push(message(result(body.id, JSON.stringify(answer))))
          })
        }
        return json(result(body.id, "ok"))
      }
      return json({ jsonrpc: "2.0", id: body.id, result: {} })
    }
  })
  return { server, seen, url: `http://127.0.0.1:${server.port}/mcp`, calls: () => calls }
}

const drive = async (url: string, env: Record<string, string> = {}) => {
  const proc = Bun.spawn([process.execPath, DRIVER, url], {
    env: { ...process.env, BYOK_BIN: byokBinary(), ...env },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code }
}

/** A model that calls the server's tool after each message of the user's, then answers; a HOME with it and the server. */
const chatWith = (url: string, tool: string) => {
  const chunk = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`
  const model = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      // (the chat's probes of what local server this is get nothing)
      if (req.method !== "POST") return new Response("", { status: 404 })
      const body = await req.json() as { messages: Array<{ role: string }> }
      const called = body.messages.at(-1)?.role === "tool"
      const text = called
        ? chunk({ choices: [{ index: 0, delta: { content: "Thanks." }, finish_reason: "stop" }] })
        : chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: `mcp__conf__${tool}`, arguments: "{}" } }] } }] }) +
          chunk({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] })
      return new Response(`${text}data: [DONE]\n\n`, { headers: { "content-type": "text/event-stream" } })
    }
  })
  const home = homeWithModels([{ displayName: "M", model: "m", baseUrl: `http://127.0.0.1:${model.port}/v1`, apiKey: "local", provider: "generic-chat-completion-api", maxOutputTokens: 100 }])
  writeFileSync(join(home, ".factory", "mcp.json"), JSON.stringify({ mcpServers: { conf: { type: "http", url } } }))
  return { model, home }
}

let servers: Array<ReturnType<typeof fakeServer>> = []
const start = (kind: Parameters<typeof fakeServer>[0]) => {
  const s = fakeServer(kind)
  servers.push(s)
  return s
}

beforeAll(() => void byokBinary(), 120_000)
afterAll(() => {
  for (const s of servers) s.server.stop(true)
  servers = []
})

describe("Streamable HTTP", () => {
  test("a response stream closed before its response is resumed with GET and Last-Event-ID, after the server's retry", async () => {
    const fake = start("resume")
    const r = await drive(fake.url)
    expect(r.code).toBe(0)
    expect(r.stderr).not.toContain("could not run")
    const resumed = fake.seen.gets.find((g) => g.lastEventId === "p1")
    expect(resumed).toBeDefined()
    // retry: 300 was honoured (a little early is the timer's slack; not at once).
    expect(resumed!.at - fake.seen.closedAt).toBeGreaterThan(250)
    expect(fake.seen.deletes).toBe(1)
  }, 60_000)

  test("a session the server forgot (404) is initialised again, once, and the call made again", async () => {
    const fake = start("expire")
    const r = await drive(fake.url)
    expect(r.code).toBe(0)
    expect(r.stderr).not.toContain("could not run")
    expect(fake.seen.initialize.length).toBe(2)
    expect(fake.calls()).toBe(2)
  }, 60_000)

  test("every call carries a progress token; the server's progress starts the call's time limit again", async () => {
    const fake = start("progress")
    const r = await drive(fake.url, { BYOK_MCP_TIMEOUT: "1" })
    expect(r.code).toBe(0)
    expect(typeof fake.seen.progressToken).toBe("string")
    expect(r.stderr).not.toContain("no answer within")
    expect(r.stderr).not.toContain("could not run")
  }, 60_000)

  test("elicitation: exec declines and says so, and does not declare it; --mcp-accept-defaults answers with the defaults that fit", async () => {
    const declined = start("ask")
    const no = await drive(declined.url, { BYOK_MCP_ACCEPT_DEFAULTS: "0" })
    expect(no.code).toBe(0)
    expect(declined.seen.initialize[0]!["capabilities"]).not.toHaveProperty("elicitation")
    expect((declined.seen.answers.get(99) as { result: unknown }).result).toEqual({ action: "decline" })
    expect(no.stderr).toContain('MCP server "conf" asked: Who are you?')
    expect(no.stderr).toContain("--mcp-accept-defaults answers with the form's defaults")
    expect(no.stderr).not.toContain("\x1b[31m")

    const accepted = start("ask")
    const yes = await drive(accepted.url)
    expect(yes.code).toBe(0)
    expect(accepted.seen.initialize[0]!["capabilities"]).toHaveProperty("elicitation")
    // "meh" is not one of the enum's values: left out, not sent.
    expect((accepted.seen.answers.get(99) as { result: unknown }).result).toEqual({ action: "accept", content: { name: "Ada", n: 3 } })
    expect(yes.stderr).toContain("answered with the form's defaults")
  }, 60_000)

  test("the server's own GET stream is opened after initialisation; its roots/list is answered with the working directory", async () => {
    const fake = start("roots")
    const r = await drive(fake.url)
    expect(r.code).toBe(0)
    expect(fake.seen.gets.some((g) => g.lastEventId === null)).toBe(true)
    expect(fake.seen.initialize[0]!["capabilities"]).toHaveProperty("roots")
    const answer = fake.seen.answers.get("r1") as { result: { roots: Array<{ uri: string }> } } | undefined
    expect(answer?.result.roots[0]!.uri).toMatch(/^file:\/\/\/.*byok-conformance-/)
  }, 60_000)

  test("elicitation in the chat: the question shown (its escapes stripped) with the defaults; a key accepts them, or each field is typed", async () => {
    const fake = start("ask")
    const { model, home } = chatWith(fake.url, "ask")
    const data = join(home, "data")
    mkdirSync(data)
    const pane = startPane([byokBinary(), "-m", "M", "--auto", "high"], { HOME: home, BYOK_HOME: data, NO_COLOR: "1" })
    try {
      await pane.waitFor("/help for commands")
      pane.line("Go")
      await pane.waitFor("ccept these, ", 15_000)
      const screen = pane.screen()
      expect(screen).toContain('The MCP server "conf" asks: Who are you? red')
      expect(screen).toContain("name (string): \"Ada\"")
      expect(pane.screenWithEscapes()).not.toContain("\x1b[31m")
      pane.text("a")
      await pane.waitFor("Thanks.", 15_000)
      expect((fake.seen.answers.get(99) as { result: unknown }).result).toEqual({ action: "accept", content: { name: "Ada", n: 3 } })

      // e: each field asked in turn; a value that does not fit is asked again; an enum by its number.
      fake.seen.answers.clear()
      pane.line("Again")
      await pane.waitFor(/Again[\s\S]*ccept these, /, 15_000)
      pane.text("e")
      await pane.waitFor('name (string) [Ada]: ')
      pane.keys("BSpace")
      // What is typed for each field, and what is asked next.
      for (const [typed, next] of [["Bob", "n (integer) [3]: "], ["x", "a whole number"], ["7", "mood (ok|fine) [leave out]: "], ["2", ""]] as const) {
        pane.text(typed)
        pane.keys("Enter")
        if (next !== "") await pane.waitFor(next)
      }
      await pane.waitFor(/Thanks\.[\s\S]*Thanks\./, 15_000)
      expect((fake.seen.answers.get(99) as { result: unknown }).result).toEqual({ action: "accept", content: { name: "Bob", n: 7, mood: "fine" } })
    } finally {
      pane.stop()
      model.stop(true)
    }
  }, 60_000)

  test("a redirect is not followed: the server's headers (its token) never reach where it points", async () => {
    const seen: Array<string | null> = []
    const elsewhere = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (seen.push(req.headers.get("authorization")), new Response("{}")) })
    const redirecting = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.redirect(`http://127.0.0.1:${elsewhere.port}/mcp`, 307) })
    try {
      const home = homeWithModels([{ displayName: "M", model: "m", baseUrl: "http://127.0.0.1:9/v1", apiKey: "local", provider: "generic-chat-completion-api", maxOutputTokens: 100 }])
      writeFileSync(join(home, ".factory", "mcp.json"), JSON.stringify({ mcpServers: { moved: { type: "http", url: `http://127.0.0.1:${redirecting.port}/mcp`, headers: { Authorization: "Bearer hdr-canary-5521" } } } }))
      const proc = Bun.spawn([byokBinary(), "mcp", "get", "moved"], { env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_HOME: join(home, "data"), NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" })
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
      expect(code).toBe(1)
      expect(out + err).toContain(`the server redirects to http://127.0.0.1:${elsewhere.port}/mcp, which byok does not follow`)
      expect(out + err).not.toContain("hdr-canary-5521")
      expect(seen).toEqual([])
    } finally {
      elsewhere.stop(true)
      redirecting.stop(true)
    }
  }, 60_000)

  test("URL mode: exec declines and says so; in the chat the page is opened ($BROWSER) only when the person presses o", async () => {
    const declined = start("page")
    const r = await drive(declined.url)
    expect(r.code).toBe(0)
    expect((declined.seen.answers.get(98) as { result: unknown }).result).toEqual({ action: "decline" })
    expect(r.stderr).toContain("asked to open a page, which byok does not do here: declined")
    expect(declined.seen.initialize[0]!["capabilities"]).toEqual({ roots: {}, elicitation: { form: {} } })

    const fake = start("page")
    const { model, home } = chatWith(fake.url, "page")
    const opened = join(home, "opened.txt")
    const browser = join(home, "browser.sh")
    writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > ${opened}\n`, { mode: 0o755 })
    const data = join(home, "data")
    mkdirSync(data)
    const pane = startPane([byokBinary(), "-m", "M", "--auto", "high"], { HOME: home, BYOK_HOME: data, NO_COLOR: "1", BROWSER: browser })
    try {
      await pane.waitFor("/help for commands")
      pane.line("Go")
      await pane.waitFor("pen it, ", 15_000)
      expect(pane.screen()).toContain("to open: https://auth.example/consent?x=1")
      expect(existsSync(opened)).toBe(false)
      pane.text("o")
      await pane.waitFor("Thanks.", 15_000)
      expect(readFileSync(opened, "utf8")).toBe("https://auth.example/consent?x=1")
      expect((fake.seen.answers.get(98) as { result: unknown }).result).toEqual({ action: "accept" })
      expect(fake.seen.initialize[0]!["capabilities"]).toEqual({ roots: {}, elicitation: { form: {}, url: {} } })
    } finally {
      pane.stop()
      model.stop(true)
    }
  }, 60_000)
})
