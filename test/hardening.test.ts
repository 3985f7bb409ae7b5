// What an hour as a new user found (issue 17), end to end: the compiled binary, a temporary HOME, a loopback
// server, and a real terminal (tmux) where a terminal matters.
import { Database } from "bun:sqlite"
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { homeWithModels } from "./lib/home.ts"
import { sse } from "./lib/http.ts"
import { answer as chatAnswer } from "./lib/faults.ts"
import { CANARY } from "./lib/provider.ts"
import { runBinary } from "./lib/run.ts"
import { type FakeServer, sseResponse, startServer } from "./lib/server.ts"
import { type Pane, startPane } from "./lib/tmux.ts"

let bin: string
let server: FakeServer
let home: string
let panes: Array<Pane> = []

/** A Chat Completions answer made of these deltas, with a finish reason and usage. */
const answer = (...deltas: ReadonlyArray<string>) => chatAnswer("generic-chat-completion-api", deltas)

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
        // (long enough for the piece to reach byok on a loaded machine before the cut; 30 ms was not, under CI)
        setTimeout(() => c.error(new Error("cut")), 400)
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
  test("[DONE] as the body's last line without a blank line after it: the server's end, not a cut", async () => {
    server.handle(() => sseResponse(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "hello" }, finish_reason: "stop" }] })}\n\ndata: [DONE]`))
    const r = await run(["exec", "-m", "Local", "hi"])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("hello\n")
    expect(r.stderr).toBe("")
  })
  test("[DONE] without any finish reason: said to have ended without saying why, exit 0, not a cut", async () => {
    server.handle(() => sseResponse(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "hello" } }] })}\n\ndata: [DONE]`))
    const r = await run(["exec", "-m", "Local", "hi"])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("hello\n")
    expect(r.stderr).toContain("ended the answer without saying why")
    expect(r.stderr).not.toContain("cut")
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

describe("2. byok's files are private", () => {
  const mode = (path: string) => statSync(path).mode & 0o777
  test("a new data directory is 700, the ledger, sessions and their WAL files 600, whatever the umask", async () => {
    server.handle(() => sseResponse(answer("ok")))
    const data = join(mkdtempSync(join(tmpdir(), "byok-hard-modes-")), "byok")
    const r = await runBinary("sh", ["-c", `umask 000; exec "${bin}" exec -m Local hi`], { HOME: home, BYOK_HOME: data })
    expect(r.stdout).toBe("ok\n")
    expect(mode(data)).toBe(0o700)
    for (const f of ["ledger.db", "sessions.db"]) expect(mode(join(data, f))).toBe(0o600)
    for (const f of readdirSync(data)) expect([f, mode(join(data, f))]).toEqual([f, 0o600])
  })
  test("existing files others can read are tightened when byok opens them; the doctor says what it found", async () => {
    server.handle(() => sseResponse(answer("ok")))
    const data = mkdtempSync(join(tmpdir(), "byok-hard-modes-"))
    await run(["exec", "-m", "Local", "hi"], { BYOK_HOME: data })
    chmodSync(data, 0o755)
    for (const f of readdirSync(data)) chmodSync(join(data, f), 0o644)
    writeFileSync(join(data, "history.jsonl"), "\"hi\"\n", { mode: 0o644 })
    const doctor = await run(["doctor"], { BYOK_HOME: data })
    expect(doctor.stdout).toContain(`${join(data, "ledger.db")} was readable by others (mode 644); byok made it 600`)
    expect(doctor.stdout).toContain(`${join(data, "history.jsonl")} was readable by others`)
    expect(mode(data)).toBe(0o700)
    chmodSync(join(data, "ledger.db"), 0o644)
    chmodSync(join(data, "sessions.db"), 0o640)
    await run(["exec", "-m", "Local", "hi"], { BYOK_HOME: data })
    expect(mode(join(data, "ledger.db"))).toBe(0o600)
    expect(mode(join(data, "sessions.db"))).toBe(0o600)
  })
  test("the chat's input history is 600", async () => {
    server.handle(() => sseResponse(answer("ok")))
    const data = mkdtempSync(join(tmpdir(), "byok-hard-modes-"))
    const pane = terminal([bin, "-m", "Local"], { BYOK_HOME: data })
    await pane.waitFor("/help for commands")
    pane.line("hello")
    await pane.waitFor(/^ok$/m)
    expect(mode(join(data, "history.jsonl"))).toBe(0o600)
  })
})

/** A HOME with these settings.json models; the good one points at the test server. */
const homeWith = (models: ReadonlyArray<Record<string, unknown>>) => homeWithModels(models)
const model = (displayName: string, over: Record<string, unknown> = {}) => ({
  displayName,
  model: "qwen",
  baseUrl: `${server.url}/v1`,
  apiKey: CANARY,
  provider: "generic-chat-completion-api",
  maxOutputTokens: 100,
  ...over
})

describe("3. a key that looks like an unexpanded variable", () => {
  test("$NAME and %NAME% get a warning that says how to write ${NAME}", async () => {
    server.handle(() => sseResponse(answer("ok")))
    const dir = homeWith([model("Shell", { apiKey: "$OPENAI_API_KEY" }), model("Windows", { apiKey: "%OPENAI_API_KEY%" })])
    for (const [name, written] of [["Shell", "$OPENAI_API_KEY"], ["Windows", "%OPENAI_API_KEY%"]]) {
      const r = await run(["exec", "-m", name!, "hi"], { HOME: dir })
      expect(r.code).toBe(0)
      expect(r.stderr).toContain(`the apiKey of "${name}"`)
      expect(r.stderr).toContain(`is the text "${written}"`)
      expect(r.stderr).toContain(`write "\${OPENAI_API_KEY}"`)
    }
    const doctor = await run(["doctor", "-m", "Shell"], { HOME: dir })
    expect(doctor.stdout).toContain(`! key text`)
  })
})

describe("13. an entry with an unset variable warns where it matters, not everywhere", () => {
  const dir = () => homeWith([model("Good"), model("Needs var", { apiKey: "${BYOK_TEST_UNSET_KEY}" })])
  test("exec -m Good, cost and sessions say nothing of it; using it, models and doctor do", async () => {
    server.handle(() => sseResponse(answer("ok")))
    const home = dir()
    for (const args of [["exec", "-m", "Good", "hi"], ["cost"], ["sessions"]]) {
      const r = await run(args, { HOME: home })
      expect(r.code).toBe(0)
      expect(r.stderr).not.toContain("BYOK_TEST_UNSET_KEY")
    }
    const used = await run(["exec", "-m", "Needs var", "hi"], { HOME: home })
    expect(used.code).toBe(2)
    expect(used.stderr).toContain("BYOK_TEST_UNSET_KEY is not set")
    const models = await run(["models"], { HOME: home })
    expect(models.stdout).toMatch(/^! +Needs var +unusable/m)
    expect(models.stdout).toContain("BYOK_TEST_UNSET_KEY is not set")
    const json = JSON.parse((await run(["models", "--json"], { HOME: home })).stdout) as Array<{ displayName: string; usable: boolean }>
    expect(json.map((m) => [m.displayName, m.usable])).toEqual([["Good", true], ["Needs var", false]])
    const doctor = await run(["doctor", "-m", "Needs var"], { HOME: home })
    expect(doctor.stdout).toContain("BYOK_TEST_UNSET_KEY is not set")
  })
  test("when every entry is unusable, models says so instead of 'No models configured'", async () => {
    const home = homeWith([model("Needs var", { apiKey: "${BYOK_TEST_UNSET_KEY}" })])
    const r = await run(["models"], { HOME: home })
    expect(r.stdout).not.toContain("No models configured")
    expect(r.stdout).toContain("No usable model: every configured entry has a problem")
  })
})

describe("8. the doctor's timeout, and models checked side by side", () => {
  test("doctor --timeout 1 and BYOK_TIMEOUT=1 bound each wait; three hung servers take one wait, not three", async () => {
    const hung = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
    try {
      const base = `http://127.0.0.1:${hung.port}/v1`
      const home = homeWith([model("A", { baseUrl: base }), model("B", { baseUrl: base }), model("C", { baseUrl: base })])
      for (const [args, env] of [[["doctor", "--timeout", "1"], {}], [["doctor"], { BYOK_TIMEOUT: "1" }]] as const) {
        const started = Date.now()
        const r = await run(args, { HOME: home, ...env })
        expect(Date.now() - started).toBeLessThan(2500)
        expect(r.code).toBe(5)
        expect(r.stdout.match(/No response from 127\.0\.0\.1:\d+ in 1 s/g)).toHaveLength(3)
        expect(r.stdout.indexOf("\nB\n")).toBeLessThan(r.stdout.indexOf("\nC\n"))
      }
    } finally {
      hung.stop(true)
    }
  })
})

describe("22. inputs that are refused", () => {
  test("models --save without --discover is a usage error", async () => {
    const r = await run(["models", "--save"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("byok models --discover --save")
  })
  test("cost --since without a unit, 0, or a bare number; --limit below 1; retries below 0 or not a number", async () => {
    server.handle(() => sseResponse(answer("ok")))
    const before = server.requests.length
    for (const since of ["7", "0", "0d", "99999", "3 days"]) {
      const r = await run(["cost", "--since", since])
      expect([since, r.code]).toEqual([since, 2])
      expect(r.stderr).toContain("30m, 24h, 7d, 2w")
    }
    for (const args of [["cost", "--limit", "0"], ["cost", "--limit=-3"], ["sessions", "--limit", "0"], ["sessions", "--limit=-3"]]) {
      const r = await run(args)
      expect([args, r.code]).toEqual([args, 2])
      expect(r.stdout).toBe("")
    }
    const retries = await run(["exec", "-m", "Local", "--max-retries=-1", "hi"])
    expect(retries.code).toBe(2)
    expect(retries.stderr).toContain("--max-retries must be a whole number of 0 or more")
    const env = await run(["exec", "-m", "Local", "hi"], { BYOK_MAX_RETRIES: "x" })
    expect(env.code).toBe(2)
    expect(env.stderr).toContain(`BYOK_MAX_RETRIES must be a whole number of 0 or more, got "x"`)
    expect(server.requests.length).toBe(before)
    for (const since of ["7d", "today", "2026-11-01", "2026-11-01T09:30"]) expect((await run(["cost", "--since", since])).code).toBe(0)
  })
})

describe("12. exec -o json: a result object for every failure", () => {
  test("before the request (unknown model, no prompt, a bad flag), with is_error, the message and the exit code", async () => {
    for (const [args, code, message] of [
      [["exec", "-o", "json", "-m", "Nope", "hi"], 2, "Unknown model"],
      [["exec", "-o", "stream-json", "-m", "Local"], 2, "No prompt given"],
      [["exec", "--output-format=json", "--max-tokens", "abc", "hi"], 2, "invalid arguments"]
    ] as const) {
      const r = await run(args, {}, "")
      expect(r.code).toBe(code)
      const lines = r.stdout.trim().split("\n")
      expect(lines).toHaveLength(1)
      const result = JSON.parse(lines[0]!)
      expect(result).toMatchObject({ type: "result", is_error: true, exit_code: code })
      expect(result.error.message).toContain(message)
    }
  })
})

/** A response whose pieces are sent as separate network chunks, a little apart. */
const chunked = (...pieces: ReadonlyArray<string>) =>
  new Response(
    new ReadableStream({
      async start(c) {
        for (const p of pieces) {
          c.enqueue(new TextEncoder().encode(p))
          await Bun.sleep(20)
        }
        c.close()
      }
    }),
    { headers: { "content-type": "text/event-stream" } }
  )

describe("14 and 21: what the stream carries arrives whole", () => {
  test("an emoji split across two events (half a surrogate pair each) prints as the emoji", async () => {
    const delta = (raw: string) => `data: {"choices":[{"index":0,"delta":{"content":"${raw}"}}]}\n\n`
    server.handle(() => chunked(delta("smile \\ud83d"), delta("\\ude00 done"), `data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`))
    const r = await run(["exec", "-m", "Local", "hi"])
    expect(r.stdout).toBe("smile 😀 done\n")
  })
  test("a content part byok cannot read is said on stderr; the rest is shown", async () => {
    server.handle(() => sseResponse(sse(
      { choices: [{ index: 0, delta: { content: [{ type: "text", text: "shown" }, { type: "audio", data: "…" }] } }] },
      { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      "[DONE]"
    )))
    const r = await run(["exec", "-m", "Local", "hi"])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("shown\n")
    expect(r.stderr).toContain(`a content part of type "audio", which byok cannot show`)
  })
})

describe("18 and 19: what byok cost counts as unpriced", () => {
  test("a request that failed before any token is not unpriced; a price added later applies to rows unpriced when written", async () => {
    const data = mkdtempSync(join(tmpdir(), "byok-hard-cost-"))
    const dir = homeWith([model("Nowhere", { baseUrl: "http://byok-test-host.invalid/v1", model: "my-finetune" })])
    const failed = await run(["exec", "-m", "Nowhere", "hi"], { HOME: dir, BYOK_HOME: data })
    expect(failed.code).toBe(5)
    // A row that did get tokens from a host byok has no price for, as an answer from such a host leaves it.
    const { make: makeLedger } = await import("../src/ledger/ledger.ts")
    const { sampleRow } = await import("./lib/rows.ts")
    const { Effect } = await import("effect")
    const ledger = makeLedger(join(data, "ledger.db"))
    await Effect.runPromise(Effect.andThen(
      ledger.record(sampleRow({ modelName: "Nowhere", modelId: "my-finetune", host: "byok-test-host.invalid", inputUncached: 1_000_000, cacheRead: 0, cacheWrite5m: 0, outputTokens: 1_000_000, cost: undefined, savings: undefined, priceSource: "unpriced" })),
      ledger.close
    ))
    const before = await run(["cost", "--json"], { HOME: dir, BYOK_HOME: data })
    expect(JSON.parse(before.stdout).total).toMatchObject({ requests: 2, unpriced: 1, failed: 1, cost: 0 })
    expect((await run(["cost"], { HOME: dir, BYOK_HOME: data })).stdout).toContain("1 request is unpriced")
    // The price is added to byok's own file; the models come from --config: byok cost prices the old row.
    mkdirSync(join(dir, ".config", "byok"), { recursive: true })
    writeFileSync(join(dir, ".config", "byok", "config.json"), JSON.stringify({ prices: { "my-finetune": { input: 0.5, output: 1.5 } } }))
    const after = await run(["cost", "--json"], { HOME: dir, BYOK_HOME: data })
    expect(JSON.parse(after.stdout).total).toMatchObject({ requests: 2, unpriced: 0, cost: 2 })
    const text = await run(["cost"], { HOME: dir, BYOK_HOME: data })
    expect(text.stdout).toContain("$2.00")
    expect(text.stdout).not.toContain("unpriced")
  })
})

describe("23, 24, 25: sessions and the chat", () => {
  test("23. resuming a conversation whose model is gone says which it was on and which answers now; num_turns counts the conversation", async () => {
    server.handle(() => sseResponse(answer("ok")))
    const data = mkdtempSync(join(tmpdir(), "byok-hard-resume-"))
    const first = homeWith([model("Old model"), model("New model")])
    const one = JSON.parse((await run(["exec", "-o", "json", "-m", "Old model", "hi"], { HOME: first, BYOK_HOME: data })).stdout)
    expect(one.num_turns).toBe(1)
    const two = JSON.parse((await run(["exec", "-o", "json", "-c", "more"], { HOME: first, BYOK_HOME: data })).stdout)
    expect(two.num_turns).toBe(2)
    expect(two.model).toBe("Old model")
    const later = homeWith([model("New model")])
    const three = await run(["exec", "-o", "json", "-c", "and more"], { HOME: later, BYOK_HOME: data })
    expect(three.stderr).toContain(`this conversation was on "Old model", which is no longer configured; "New model" answers now`)
    expect(JSON.parse(three.stdout)).toMatchObject({ num_turns: 3, model: "New model" })
  })
  test("24. with nowhere to record (no HOME), the chat does not offer to resume", async () => {
    server.handle(() => sseResponse(answer("ok")))
    const config = join(mkdtempSync(join(tmpdir(), "byok-hard-nohome-")), "c.json")
    writeFileSync(config, JSON.stringify({ customModels: [model("Local")] }))
    const r = await runBinary(bin, ["--config", config], { BYOK_MAX_RETRIES: "0" }, "hi\n")
    expect(r.stdout).toBe("ok\n")
    expect(r.stderr).not.toContain("Resume this conversation")
  })
  test("25. /model with a near name suggests, as -m does", async () => {
    const r = await run(["-m", "Local"], {}, "/model locl\n")
    expect(r.stdout).toContain(`No model "locl". Did you mean "Local"?`)
  })
})

describe("27. small things", () => {
  test("Ctrl-C in exec on a terminal ends the partial line with a newline", async () => {
    const { heldStream } = await import("./lib/server.ts")
    const held = heldStream(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "partial line" } }] })}\n\n`)
    server.handle(() => held.response)
    const pane = terminal([bin, "exec", "-m", "Local", "hi"])
    await pane.waitFor("partial line")
    pane.keys("C-c")
    const screen = await pane.waitFor("[exited")
    held.release()
    // The terminal echoes ^C itself; what matters is that the shell's next line starts on a line of its own.
    expect(screen).toMatch(/^partial line(\^C)?\n\[exited 130\]/m)
  })
  test("local-server probes send byok's User-Agent", async () => {
    const agents: Array<string> = []
    const probe = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => {
        agents.push(req.headers.get("user-agent") ?? "")
        return req.method === "GET" ? new Response("{}", { status: 404 }) : sseResponse(answer("ok"))
      }
    })
    try {
      const dir = homeWith([model("Probe", { baseUrl: `http://127.0.0.1:${probe.port}/v1` })])
      await run(["exec", "-m", "Probe", "hi"], { HOME: dir })
      expect(agents.length).toBeGreaterThan(1)
      for (const a of agents) expect(a).toMatch(/^byok\//)
    } finally {
      probe.stop(true)
    }
  })
})

describe("15 and 26: the chat on a terminal", () => {
  test("26. answers wrap at word boundaries at the terminal's width; tables are drawn aligned; NO_COLOR keeps ** and backticks", async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ")
    const table = "| Name | 数量 |\n|---|---:|\n| apple | 3 |\n| 中文字 | 12 |\n"
    server.handle(() => sseResponse(answer(long.slice(0, 57), long.slice(57), "\n\n", table, "\nA **bold** and `code` end.")))
    const pane = terminal([bin, "-m", "Local"])
    await pane.waitFor("/help for commands")
    pane.line("go")
    const screen = await pane.waitFor("end.")
    // The pane is 100 columns wide: no word is cut at the edge.
    const lines = screen.split("\n")
    const answerLines = lines.filter((l) => /^word\d/.test(l)).map((l) => l.trimEnd())
    expect(answerLines.length).toBeGreaterThan(1)
    for (const l of answerLines) expect(l.length).toBeLessThan(100)
    expect(answerLines.join(" ").split(" ")).toEqual(long.split(" "))
    expect(screen).toContain("│ apple  │    3 │")
    expect(screen).toContain("│ 中文字 │   12 │")
    expect(screen).toContain("A **bold** and `code` end.")
  })
  test("15. a stream that pauses after it has begun shows 'waiting · Ns', gone when text resumes; the last word is not held back", async () => {
    const { heldStream } = await import("./lib/server.ts")
    let held: ReturnType<typeof heldStream> | undefined
    server.handle(() => {
      held = heldStream(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "First words with" } }] })}\n\n`)
      return held.response
    })
    const pane = terminal([bin, "-m", "Local"])
    await pane.waitFor("/help for commands")
    pane.line("go")
    // "with" could still become "withttp://…": after a moment without text it is shown all the same.
    await pane.waitFor("First words with", 3000)
    await pane.waitFor(/First words with waiting · [34]s/, 6000)
    pane.keys("C-c")
    const screen = await pane.waitFor("[stopped")
    expect(screen).not.toContain("waiting ·")
    held?.release()
  }, 15_000)
})

describe("26. byok cost's table keeps its columns with CJK and emoji titles", () => {
  test("every line of a table is as wide as its header", async () => {
    server.handle(() => sseResponse(answer("ok")))
    const data = mkdtempSync(join(tmpdir(), "byok-hard-cjk-"))
    await run(["exec", "-m", "Local", "中文的问题 🙂 emoji"], { BYOK_HOME: data })
    await run(["exec", "-m", "Local", "plain question"], { BYOK_HOME: data })
    const r = await run(["cost"], { BYOK_HOME: data })
    const block = r.stdout.split("\n\n").find((b) => b.startsWith("CONVERSATION"))!
    const widths = block.split("\n").filter((l) => l !== "").map((l) => Bun.stringWidth(l))
    expect(new Set(widths).size).toBe(1)
    expect(block).toContain("中文的问题 🙂 emoji")
  })
})

describe("27. the doctor speaks of no answer above", () => {
  test("a stream that stalls during the doctor's test request: no 'the answer above'", async () => {
    const { heldStream } = await import("./lib/server.ts")
    let held: ReturnType<typeof heldStream> | undefined
    server.handle((req) => {
      if (req.method === "GET") return new Response(JSON.stringify({ data: [{ id: "qwen" }] }), { headers: { "content-type": "application/json" } })
      held = heldStream(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "O" } }] })}\n\n`)
      return held.response
    })
    const r = await run(["doctor", "-m", "Local", "--timeout", "1"])
    held?.release()
    expect(r.code).toBe(5)
    expect(r.stdout).toContain("stalled after about 1 token: nothing for 1 s")
    expect(r.stdout).not.toContain("above")
  })
})

describe("28. the doctor and a connection closed under its request", () => {
  test("a kept-alive connection closed as the test request goes out is sent once more, not called a failure", async () => {
    const { createServer } = await import("node:net")
    let posts = 0
    const chunk = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "OK" }, finish_reason: "stop" }] })}\n\n` +
      `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 } })}\n\ndata: [DONE]\n\n`
    // Raw HTTP, so the first POST can lose its connection with nothing answered, as a proxy's closing socket does.
    const raw = createServer((socket) => {
      let buffered = ""
      socket.on("data", (data) => {
        buffered += data.toString("latin1")
        const end = buffered.indexOf("\r\n\r\n")
        if (end < 0) return
        const head = buffered.slice(0, end)
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0)
        if (buffered.length < end + 4 + length) return
        buffered = ""
        if (head.startsWith("GET")) {
          const body = JSON.stringify({ data: [{ id: "qwen" }] })
          socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`)
        } else if (++posts === 1) {
          socket.destroy()
        } else {
          socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n${chunk}`)
        }
      })
    })
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve))
    const port = (raw.address() as { port: number }).port
    const dir = homeWithModels([{ displayName: "Raw", model: "qwen", baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: CANARY, provider: "generic-chat-completion-api", maxOutputTokens: 50 }])
    try {
      const r = await run(["doctor", "-m", "Raw"], { HOME: dir })
      expect(posts).toBe(2)
      expect(r.stdout).toMatch(/✓ key +accepted/)
      expect(r.stdout).toMatch(/✓ stream/)
    } finally {
      raw.close()
    }
  })
})
