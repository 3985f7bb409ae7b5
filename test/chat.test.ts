// The interactive chat through a real pseudo-terminal (tmux), against a loopback server: the compiled binary,
// as a user would run it.
import { Database } from "bun:sqlite"
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { sse } from "./lib/http.ts"
import { CANARY, fixture } from "./lib/provider.ts"
import { type FakeServer, heldStream, type Recorded, sseResponse, startServer } from "./lib/server.ts"
import { type Pane, startPane } from "./lib/tmux.ts"

let bin: string
let server: FakeServer
let home: string
let panes: Array<Pane> = []

const chatAnswer = (text: string) =>
  sse(
    { model: "m", choices: [{ index: 0, delta: { content: text }, finish_reason: null }] },
    { model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { model: "m", choices: [], usage: { prompt_tokens: 20, completion_tokens: 3 } },
    "[DONE]"
  )

/** Answers "answer N" where N counts the chat requests, so each turn is recognisable. */
const numberedAnswers = () => {
  let n = 0
  return (req: Recorded) => {
    if (req.path === "/v1/messages") return sseResponse(fixture("anthropic", "cache-read"))
    n++
    return sseResponse(chatAnswer(`answer ${n}`))
  }
}

beforeAll(() => {
  bin = byokBinary()
  server = startServer()
  home = mkdtempSync(join(tmpdir(), "byok-chat-home-"))
  mkdirSync(join(home, ".factory"))
  const entry = (name: string, provider: string, model: string, base: string) => ({
    model_display_name: name,
    model,
    base_url: base,
    api_key: CANARY,
    provider,
    max_tokens: 256
  })
  writeFileSync(join(home, ".factory", "config.json"), JSON.stringify({
    custom_models: [
      entry("Local", "generic-chat-completion-api", "qwen", `${server.url}/v1`),
      entry("Claude", "anthropic", "claude-sonnet-4-5", server.url)
    ]
  }))
}, 60_000)

afterEach(() => {
  for (const p of panes) p.stop()
  panes = []
})

afterAll(() => server?.stop())

const chat = (
  args: ReadonlyArray<string> = [],
  dataHome = mkdtempSync(join(tmpdir(), "byok-chat-data-")),
  env: Record<string, string> = { NO_COLOR: "1" }
) => {
  const pane = startPane([bin, ...args], { HOME: home, BYOK_HOME: dataHome, BYOK_MAX_RETRIES: "0", ...env })
  panes.push(pane)
  return { pane, dataHome }
}

/** A chat whose banner is on screen, ready for input. */
const started = async (...args: Parameters<typeof chat>) => {
  const c = chat(...args)
  await c.pane.waitFor("/help for commands")
  return c
}

/** A chat that has answered once (so its ledger exists), and then another program holding the ledger locked. */
const lockedAfterFirstAnswer = async () => {
  server.handle(numberedAnswers())
  const { pane, dataHome } = await started()
  pane.line("first")
  await pane.waitFor("answer 1")
  const holder = new Database(join(dataHome, "ledger.db"))
  holder.run("BEGIN EXCLUSIVE")
  return { pane, dataHome, holder }
}

const ledgerRows = (dataHome: string) =>
  new Database(join(dataHome, "ledger.db"), { readonly: true })
    .query("SELECT model_name, outcome, cache_read, input_uncached, output_tokens FROM requests ORDER BY id")
    .all() as Array<{ model_name: string; outcome: string; cache_read: number; input_uncached: number; output_tokens: number }>

const messagesOf = (req: Recorded) => (req.body as { messages: Array<{ role: string; content: unknown }> }).messages

describe("byok chat in a terminal", () => {
  test("a two-turn conversation sends the history with the second question", async () => {
    server.handle(numberedAnswers())
    const { pane } = await started()
    pane.line("first question")
    await pane.waitFor("answer 1")
    pane.line("second question")
    await pane.waitFor("answer 2")
    expect(messagesOf(server.requests.at(-1)!)).toEqual([
      { role: "user", content: "first question" },
      { role: "assistant", content: "answer 1" },
      { role: "user", content: "second question" }
    ])
    expect(pane.screen()).not.toContain(CANARY)
  })

  test("/model switches the wire format mid-conversation, history carried over; /cost matches the ledger", async () => {
    server.handle(numberedAnswers())
    const { pane, dataHome } = await started()
    pane.line("hello local")
    await pane.waitFor("answer 1")
    pane.line("/model")
    // In `byok models` order, numbered as /model N takes them, the columns aligned.
    const list = await pane.waitFor(/ 2\. Claude +anthropic/)
    expect(list).toMatch(/\* +1\. Local +generic-chat-completion-api/)
    expect(list.indexOf("generic-chat-completion-api")).toBeGreaterThan(0)
    pane.line("/model Claude")
    await pane.waitFor("Switched to Claude (anthropic)")
    pane.line("and now Claude")
    await pane.waitFor("From cache.")
    const last = server.requests.at(-1)!
    expect(last.path).toBe("/v1/messages")
    expect(messagesOf(last).map((m) => m.role)).toEqual(["user", "assistant", "user"])
    expect(JSON.stringify(messagesOf(last)[1])).toContain("answer 1")

    pane.line("/cost")
    const screen = await pane.waitFor("All time:")
    const rows = ledgerRows(dataHome)
    expect(rows.map((r) => [r.model_name, r.outcome])).toEqual([["Local", "ok"], ["Claude", "ok"]])
    const cacheRead = rows.reduce((a, r) => a + r.cache_read, 0)
    const input = rows.reduce((a, r) => a + r.input_uncached, 0)
    expect(cacheRead).toBe(3068)
    const rate = ((3068 / (3068 + input)) * 100).toFixed(1)
    expect(screen).toContain(`This conversation: 2 requests · local · cache hit rate ${rate}%`)
    expect(screen).toContain(`  input ${input} · cache read 3,068 · cache write 0 · output 24`)
  })

  test("Ctrl-C mid-answer stops it, keeps the partial text, records 'interrupted', and returns to the prompt", async () => {
    const held = heldStream(sse({ model: "m", choices: [{ index: 0, delta: { content: "a partial ans" }, finish_reason: null }] }))
    server.handle((req) => (messagesOf(req).length > 1 ? sseResponse(chatAnswer("after the stop")) : held.response))
    const { pane, dataHome } = await started()
    pane.line("tell me a long story")
    await pane.waitFor("a partial ans")
    pane.keys("C-c")
    await pane.waitFor("[stopped: the partial answer is kept]")
    held.release()
    pane.line("go on")
    await pane.waitFor("after the stop")
    expect(messagesOf(server.requests.at(-1)!)).toEqual([
      { role: "user", content: "tell me a long story" },
      { role: "assistant", content: "a partial ans" },
      { role: "user", content: "go on" }
    ])
    expect(ledgerRows(dataHome).map((r) => r.outcome)).toEqual(["interrupted", "ok"])
  })

  test("after each answer a line of tokens, cost and time (/stats off hides it); leaving says how to come back", async () => {
    server.handle(numberedAnswers())
    const { pane } = await started()
    pane.line("hello")
    await pane.waitFor(/\d+ in · \d+ out · local · first token \d+\.\d s · \d+\.\d s/)
    pane.line("/stats off")
    await pane.waitFor("The line after each answer is off.")
    pane.line("again")
    const screen = await pane.waitFor("answer 2")
    expect(screen.match(/ in · /g)).toHaveLength(1)
    pane.line("/max-tokens 7")
    await pane.waitFor("Answers may now take 7 tokens, for this chat.")
    pane.line("and once more")
    await pane.waitFor("answer 3")
    expect((server.requests.at(-1)!.body as { max_tokens: number }).max_tokens).toBe(7)
    pane.keys("C-d")
    await pane.waitFor(/Resume this conversation with: byok -c \(or byok -s [0-9a-f]{8}\)/)
    await pane.waitFor("[exited 0]")
  })

  test("/stats with a word other than on or off is refused and leaves the line on", async () => {
    server.handle(numberedAnswers())
    const { pane } = await started()
    pane.line("/stats maybe")
    await pane.waitFor("Use /stats on or /stats off.")
    pane.line("hello")
    await pane.waitFor(/\d+ in · \d+ out · local · first token \d+\.\d s · \d+\.\d s/)
    pane.keys("C-d")
    await pane.waitFor("[exited 0]")
  })

  test("Ctrl-D on an empty prompt exits 0; Ctrl-C on an empty prompt too", async () => {
    const a = (await started()).pane
    a.keys("C-d")
    await a.waitFor("[exited 0]")
    const b = (await started()).pane
    b.text("never mind")
    b.keys("C-c")
    await b.waitFor(/›\s*\n/)
    b.keys("C-c")
    await b.waitFor("[exited 0]")
  })

  test("--continue restores the history; an error keeps the conversation and returns to the prompt", async () => {
    server.handle(numberedAnswers())
    const first = await started()
    first.pane.line("remember the number 7")
    await first.pane.waitFor(/answer \d/)
    first.pane.keys("C-d")
    await first.pane.waitFor("[exited 0]")

    const again = chat(["-c"], first.dataHome)
    await again.pane.waitFor("Resumed conversation")
    expect(again.pane.screen()).toContain("remember the number 7")
    server.handle(() => new Response(JSON.stringify({ error: { message: "slow down" } }), { status: 429 }))
    again.pane.line("what was it?")
    await again.pane.waitFor("rate limiting")
    await again.pane.waitFor("press ↑ to edit and resend")
    server.handle(numberedAnswers())
    again.pane.keys("Up")
    await again.pane.waitFor(/› what was it\?\s*$/m)
    again.pane.keys("Enter")
    await again.pane.waitFor(/answer 1\s*\n/)
    expect(messagesOf(server.requests.at(-1)!).map((m) => m.content)).toEqual([
      "remember the number 7",
      expect.stringMatching(/^answer \d$/),
      "what was it?"
    ])
  })

  test("multi-line input: Alt+Enter, a trailing backslash, and a bracketed paste stay one message", async () => {
    server.handle(numberedAnswers())
    const { pane } = await started()
    pane.text("line one")
    pane.keys("M-Enter")
    pane.line("line two \\")
    pane.line("line three")
    await pane.waitFor(/answer \d/)
    expect(messagesOf(server.requests.at(-1)!).at(-1)!.content).toBe("line one\nline two \nline three")
    pane.paste("pasted\nblock\n")
    await pane.waitFor("block")
    pane.keys("Enter")
    await pane.waitFor(/answer \d[\s\S]*answer \d/)
    expect(messagesOf(server.requests.at(-1)!).at(-1)!.content).toBe("pasted\nblock")
  })

  test("the input history is kept between runs", async () => {
    server.handle(numberedAnswers())
    const first = await started()
    first.pane.line("a question worth repeating")
    await first.pane.waitFor(/answer \d/)
    first.pane.keys("C-d")
    await first.pane.waitFor("[exited 0]")
    const second = await started([], first.dataHome)
    second.pane.keys("Up")
    await second.pane.waitFor(/› a question worth repeating\s*$/m)
  })

  test("/cost says so when caching did not engage although the prompt was long enough", async () => {
    const anthropicAnswer = sse(
      { type: "message_start", message: { model: "claude-sonnet-4-5", usage: { input_tokens: 5000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "uncached answer" } },
      { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 3 } },
      { type: "message_stop" }
    )
    server.handle(() => sseResponse(anthropicAnswer))
    const { pane } = await started(["-m", "Claude"])
    pane.line("a long prompt")
    await pane.waitFor("uncached answer")
    pane.line("again")
    await pane.waitFor(/uncached answer[\s\S]*uncached answer/)
    pane.line("/cost")
    await pane.waitFor("Caching did not engage: the last prompt was 5,000 tokens, above the 1,024-token minimum")
  })

  test("a locked ledger never holds the chat up; the row is written once the ledger is free", async () => {
    const { pane, dataHome, holder } = await lockedAfterFirstAnswer()
    const sentAt = Date.now()
    pane.line("while locked")
    await pane.waitFor("answer 2")
    await pane.waitFor("the cost ledger is busy")
    expect(Date.now() - sentAt).toBeLessThan(1500)
    holder.run("ROLLBACK")
    holder.close()
    pane.line("after")
    await pane.waitFor("answer 3")
    await Bun.sleep(100)
    expect(ledgerRows(dataHome).map((r) => r.outcome)).toEqual(["ok", "ok", "ok"])
  })

  test("leaving while the ledger is still locked: the refused row gets the ordinary wait, nothing is dropped", async () => {
    const { pane, dataHome, holder } = await lockedAfterFirstAnswer()
    pane.line("while locked")
    await pane.waitFor("the cost ledger is busy")
    pane.keys("C-d")
    await Bun.sleep(300)
    holder.run("ROLLBACK")
    holder.close()
    await pane.waitFor("[exited 0]")
    expect(ledgerRows(dataHome).map((r) => r.outcome)).toEqual(["ok", "ok"])
  })

  test("colour on a terminal, none with NO_COLOR", async () => {
    const coloured = await started([], undefined, {})
    // The prompt's accent colour (cyan) and the banner's dim.
    expect(coloured.pane.screenWithEscapes()).toContain("\x1b[36m")
    expect(coloured.pane.screenWithEscapes()).toContain("\x1b[2m")
    const plain = await started([], undefined, { NO_COLOR: "1" })
    expect(plain.pane.screenWithEscapes()).not.toContain("\x1b[")
  })

  test("a help page and the version in a terminal: what the entry prints has effect/cli's colours", async () => {
    const screen = async (args: ReadonlyArray<string>) => {
      const pane = startPane([bin, ...args], { HOME: home })
      panes.push(pane)
      await pane.waitFor("[exited 0]")
      return pane.screenWithEscapes()
    }
    const fast = await screen(["exec", "--help"])
    expect(fast).toContain("\x1b[1mDESCRIPTION")
    expect(fast).toBe(await screen(["exec", "--config", "x", "--help"]))
    // The version line too: from the entry, and from effect/cli (`exec --version`).
    const version = await screen(["--version"])
    expect(version).toContain("\x1b[1mbyok")
    expect(version).toBe(await screen(["exec", "--version"]))
  })

  test("unknown commands suggest the closest; /help lists them; /sessions lists the saved one", async () => {
    server.handle(numberedAnswers())
    const { pane } = await started()
    pane.line("/cots")
    await pane.waitFor("Unknown command /cots. Did you mean /cost?")
    pane.line("/help")
    await pane.waitFor("Alt+Enter")
    pane.line("save me")
    await pane.waitFor(/answer \d/)
    pane.line("/sessions")
    await pane.waitFor(/\* [0-9a-f]{8} .*save me/)
  })
})
