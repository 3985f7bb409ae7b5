// What an hour as a new user found (issue 17), end to end: the compiled binary, a temporary HOME, a loopback
// server, and a real terminal (tmux) where a terminal matters.
import { Database } from "bun:sqlite"
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { sse } from "./lib/http.ts"
import { CANARY } from "./lib/provider.ts"
import { runBinary } from "./lib/run.ts"
import { type FakeServer, sseResponse, startServer } from "./lib/server.ts"
import { type Pane, startPane } from "./lib/tmux.ts"

let bin: string
let server: FakeServer
let home: string
let panes: Array<Pane> = []

/** A Chat Completions answer made of these deltas, with a finish reason and usage. */
const answer = (...deltas: ReadonlyArray<string>) =>
  sse(
    ...deltas.map((d) => ({ model: "m", choices: [{ index: 0, delta: { content: d }, finish_reason: null }] })),
    { model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { model: "m", choices: [], usage: { prompt_tokens: 9, completion_tokens: deltas.length } },
    "[DONE]"
  )

beforeAll(() => {
  bin = byokBinary()
  server = startServer()
  home = mkdtempSync(join(tmpdir(), "byok-hard-home-"))
  mkdirSync(join(home, ".factory"))
  writeFileSync(join(home, ".factory", "config.json"), JSON.stringify({
    custom_models: [{
      model_display_name: "Local",
      model: "qwen",
      base_url: `${server.url}/v1`,
      api_key: CANARY,
      provider: "generic-chat-completion-api",
      max_tokens: 256
    }]
  }))
}, 60_000)

afterEach(() => {
  for (const p of panes) p.stop()
  panes = []
})

afterAll(() => server?.stop())

const run = async (args: ReadonlyArray<string>, env: Record<string, string> = {}, stdin?: string) => {
  const r = await runBinary(bin, args, { HOME: home, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-hard-data-")), BYOK_MAX_RETRIES: "0", ...env }, stdin)
  expect(r.stdout + r.stderr).not.toContain(CANARY)
  return r
}

/** A response whose body is sent, then the connection is cut. */
const cutAfter = (text: string) =>
  new Response(
    new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(text))
        setTimeout(() => c.error(new Error("cut")), 30)
      }
    }),
    { headers: { "content-type": "text/event-stream" } }
  )

const terminal = (command: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const pane = startPane(command, { HOME: home, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-hard-data-")), BYOK_MAX_RETRIES: "0", NO_COLOR: "1", ...env })
  panes.push(pane)
  return pane
}

const HOSTILE = ["Hello", "\x1b]0;PWNED\x07", " wor", "\x1b[2J\x1b[H", "ld\rXX", "\x1b[", "31m!\n"]

describe("1. model output does not drive the terminal", () => {
  test("exec on a terminal: no title, no clear screen, no overwritten line; server error text too", async () => {
    server.handle(() => sseResponse(answer(...HOSTILE)))
    const pane = terminal(["sh", "-c", `echo KEEP-ME; ${bin} exec -m Local hi`])
    const screen = await pane.waitFor("[exited")
    expect(screen).toContain("KEEP-ME")
    expect(screen).toContain("Hello worldXX!")
    expect(pane.title()).not.toContain("PWNED")

    server.handle(() => new Response(JSON.stringify({ error: { message: "bad \x1b]0;PWNED2\x07\x1b[2J thing" } }), { status: 400 }))
    const errPane = terminal(["sh", "-c", `echo KEEP-ME; ${bin} exec -m Local hi`])
    const errScreen = await errPane.waitFor("[exited")
    expect(errScreen).toContain("KEEP-ME")
    expect(errScreen).toContain("bad  thing")
    expect(errPane.title()).not.toContain("PWNED")
  })
  test("the chat on a terminal: the same", async () => {
    server.handle(() => sseResponse(answer(...HOSTILE)))
    const pane = terminal(["sh", "-c", `echo KEEP-ME; ${bin} -m Local`])
    await pane.waitFor("/help for commands")
    pane.line("hi")
    const screen = await pane.waitFor("Hello worldXX!")
    expect(screen).toContain("KEEP-ME")
    expect(pane.title()).not.toContain("PWNED")
  })
  test("exec into a pipe writes the model's bytes unchanged", async () => {
    server.handle(() => sseResponse(answer(...HOSTILE)))
    const r = await run(["exec", "-m", "Local", "hi"])
    expect(r.stdout).toBe(HOSTILE.join(""))
  })
})

describe("4. a mistyped command sends nothing", () => {
  test("byok model, doctr, exce hi, completion bash: exit 2, a did-you-mean, no request", async () => {
    const before = server.requests.length
    for (const [line, meant] of [[["model"], "byok models"], [["doctr"], "byok doctor"], [["exce", "hi"], "byok exec"], [["completion", "bash"], "byok --completions"]] as const) {
      const r = await run(line)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`Did you mean ${meant}`)
      expect(r.stdout).toBe("")
    }
    const help = await run(["help", "foo"])
    expect(help.code).toBe(2)
    expect(help.stderr).toContain(`"foo" is not a byok command`)
    expect(server.requests.length).toBe(before)
  })
  test("a real question is still sent", async () => {
    server.handle(() => sseResponse(answer("Rayleigh.")))
    const r = await run(["why is the sky blue"], {}, "")
    expect(r.stdout).toContain("Rayleigh.")
  })
})

describe("10. the chat with stdout piped: answers only on stdout", () => {
  test("the banner, the echo, the stats and the resume hint go to stderr", async () => {
    server.handle(() => sseResponse(answer("First.")))
    const r = await run(["-m", "Local"], {}, "hi\n")
    expect(r.stdout).toBe("First.\n")
    expect(r.stderr).toContain("/help for commands")
    expect(r.stderr).toContain("Resume this conversation")
  })
})

describe("11. errors after a partial answer", () => {
  test("on a terminal the error starts on a new line, in byok's words", async () => {
    server.handle(() => cutAfter(sse({ model: "m", choices: [{ index: 0, delta: { content: "partial answ" } }] })))
    const pane = terminal(["sh", "-c", `${bin} exec -m Local hi`])
    const screen = await pane.waitFor("[exited")
    expect(screen).toMatch(/partial answ\nerror: The connection to 127\.0\.0\.1:\d+ was cut/)
    expect(screen).not.toMatch(/HttpClientError|verbose|Decode error/)
    expect(screen).toContain("after about 1 token)")
  })
  test("an HTML error page is summarised by its title, never printed", async () => {
    server.handle(() =>
      new Response("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>", {
        status: 502,
        headers: { "content-type": "text/html" }
      })
    )
    const r = await run(["exec", "-m", "Local", "hi"])
    expect(r.stderr).toContain(`an HTML page: "502 Bad Gateway"`)
    expect(r.stderr).not.toContain("<")
  })
})

describe("16. streams that end without a finish reason", () => {
  test("[DONE] as the body's last line without a blank line after it: a normal end", async () => {
    server.handle(() => sseResponse(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "hello" } }] })}\n\ndata: [DONE]`))
    const r = await run(["exec", "-m", "Local", "hi"])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("hello\n")
    expect(r.stderr).toBe("")
  })
  test("a stream the server closes with neither [DONE] nor a finish reason: ended without saying why, not cut", async () => {
    server.handle(() => sseResponse(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "hello" } }] })}\n\n`))
    const r = await run(["exec", "-m", "Local", "hi"])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain("ended the answer without saying why")
    expect(r.stderr).not.toContain("cut")
  })
  test("an unreadable 200 stream books byok's estimate, not 0/0", async () => {
    server.handle(() => sseResponse("data: {not json\n\n"))
    const data = mkdtempSync(join(tmpdir(), "byok-hard-data-"))
    const r = await run(["exec", "-m", "Local", "a prompt of some length to count"], { BYOK_HOME: data })
    expect(r.code).toBe(1)
    const rows = new Database(join(data, "ledger.db"), { readonly: true })
      .query("SELECT outcome, estimated, input_uncached > 0 AS counted FROM requests").all()
    expect(rows).toEqual([{ outcome: "InvalidResponseError", estimated: 1, counted: 1 }])
  })
})
