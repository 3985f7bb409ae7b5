// End to end: the compiled binary, a droid-style config in a temporary HOME, and a loopback server.
import { Database } from "bun:sqlite"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CANARY, fixture } from "./lib/provider.ts"
import { type FakeServer, heldStream, sseResponse, startServer } from "./lib/server.ts"
import { sse } from "./lib/http.ts"
import { byokBinary } from "./lib/binary.ts"
import { runBinary } from "./lib/run.ts"

let bin: string
let server: FakeServer
let home: string
let dataHome: string

const chatAnswer = (words: ReadonlyArray<string>) =>
  sse(
    ...words.map((w) => ({ model: "m", choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })),
    { model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { model: "m", choices: [], usage: { prompt_tokens: 9, completion_tokens: words.length } },
    "[DONE]"
  )

beforeAll(() => {
  bin = byokBinary()
  server = startServer()
  home = mkdtempSync(join(tmpdir(), "byok-home-"))
  dataHome = mkdtempSync(join(tmpdir(), "byok-data-"))
  mkdirSync(join(home, ".factory"))
  writeFileSync(
    join(home, ".factory", "config.json"),
    JSON.stringify({
      custom_models: [
        {
          model_display_name: "Local [llama.cpp]",
          model: "qwen2.5-coder",
          base_url: `${server.url}/v1`,
          api_key: CANARY,
          provider: "generic-chat-completion-api",
          max_tokens: 512
        },
        {
          model_display_name: "Claude",
          model: "claude-sonnet-4-5",
          base_url: server.url,
          api_key: CANARY,
          provider: "anthropic",
          max_tokens: 256
        },
        {
          model_display_name: "GPT",
          model: "gpt-5.1",
          base_url: `${server.url}/v1`,
          api_key: CANARY,
          provider: "openai",
          max_tokens: 256
        },
        {
          model_display_name: "Broken",
          model: "x",
          base_url: `${server.url}/v1`,
          api_key: CANARY,
          provider: "OpenAI",
          max_tokens: 512
        }
      ]
    })
  )
}, 60_000)

afterAll(() => server?.stop())

const run = async (args: ReadonlyArray<string>, stdin?: string, env: Record<string, string> = {}) => {
  const r = await runBinary(bin, args, { HOME: home, BYOK_HOME: dataHome, BYOK_MAX_RETRIES: "0", ...env }, stdin)
  expect(r.stdout + r.stderr).not.toContain(CANARY)
  return r
}

describe("byok exec (compiled binary)", () => {
  test("streams the answer to stdout, nothing else; warnings on stderr", async () => {
    server.handle(() => sseResponse(chatAnswer(["The answer", " is 42."])))
    const r = await run(["exec", "-m", "Local [llama.cpp]", "What is it?"])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("The answer is 42.\n")
    expect(r.stderr).toContain(`skipping "Broken"`)
    expect(r.stderr).toContain(`Did you mean "openai"?`)
    const req = server.requests.at(-1)!
    expect(req.path).toBe("/v1/chat/completions")
    expect(req.headers["authorization"]).toBe(`Bearer ${CANARY}`)
    expect(req.body).toMatchObject({ model: "qwen2.5-coder", max_tokens: 512, stream: true })
  })

  test("all three wire formats from droid-style entries", async () => {
    server.handle((req) => {
      if (req.path === "/v1/messages") return sseResponse(fixture("anthropic", "plain-text"))
      if (req.path === "/v1/responses") return sseResponse(fixture("openai-responses", "plain-text"))
      return sseResponse(chatAnswer(["Hello, world"]))
    })
    for (const model of ["Local [llama.cpp]", "Claude", "GPT"]) {
      const r = await run(["exec", "-m", model, "hi"])
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("Hello, world\n")
    }
    expect(server.requests.slice(-3).map((q) => q.path)).toEqual(["/v1/chat/completions", "/v1/messages", "/v1/responses"])
    expect(server.requests.at(-2)!.headers["x-api-key"]).toBe(CANARY)
  })

  test("a repeated long prompt sends byte-identical, cache-marked requests (so the second can read the cache)", async () => {
    server.handle((req) =>
      sseResponse(fixture(req.path === "/v1/messages" ? "anthropic" : "openai-responses", "plain-text"))
    )
    const long = "Context paragraph. ".repeat(400)
    for (const model of ["Claude", "GPT"]) {
      await run(["exec", "-m", model, "--system", "You review code.", long])
      await run(["exec", "-m", model, "--system", "You review code.", long])
      const [a, b] = server.requests.slice(-2)
      expect(JSON.stringify(b!.body)).toBe(JSON.stringify(a!.body))
    }
    const anthropicBody = JSON.stringify(server.requests.at(-3)!.body)
    expect(anthropicBody.match(/"cache_control"/g)).toHaveLength(2)
    expect((server.requests.at(-1)!.body as Record<string, unknown>)["prompt_cache_key"]).toMatch(/^byok-/)
  })

  test("stdin alone is the prompt; stdin with an argument is context before it", async () => {
    server.handle(() => sseResponse(chatAnswer(["ok"])))
    await run(["exec"], "piped question\n")
    expect((server.requests.at(-1)!.body as { messages: unknown }).messages).toEqual([
      { role: "user", content: "piped question" }
    ])
    await run(["exec", "--system", "terse", "--max-tokens", "7", "summarise"], "file contents\n")
    const body = server.requests.at(-1)!.body as { messages: unknown; max_tokens: number }
    expect(body.messages).toEqual([
      { role: "system", content: "terse" },
      { role: "user", content: "file contents\n\nsummarise" }
    ])
    expect(body.max_tokens).toBe(7)
  })

  test("401 → exit 3, a message naming the file, no key", async () => {
    server.handle(() =>
      new Response(JSON.stringify({ error: { message: `Incorrect API key provided: ${CANARY}` } }), { status: 401 })
    )
    const r = await run(["exec", "hi"])
    expect(r.code).toBe(3)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain(`rejected the API key of "Local [llama.cpp]"`)
    expect(r.stderr).toContain(join(home, ".factory", "config.json"))
    expect(r.stderr).not.toMatch(/\n\s+at \S+ \(/)
  })

  test("429 → exit 4", async () => {
    server.handle(() => new Response("{}", { status: 429, headers: { "retry-after": "3" } }))
    const r = await run(["exec", "hi"])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain("Try again in 3 s")
  })

  test("a rate limit with retry-after is waited out and retried; the retry is said on stderr", async () => {
    let n = 0
    server.handle(() =>
      ++n === 1
        ? new Response("{}", { status: 429, headers: { "retry-after-ms": "50" } })
        : sseResponse(chatAnswer(["after the wait"]))
    )
    const r = await run(["exec", "hi"], undefined, { BYOK_MAX_RETRIES: "2" })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("after the wait\n")
    expect(r.stderr).toContain("is rate limiting; trying again in 50ms (retry 1 of 2)")
    server.handle(() => new Response("{}", { status: 429, headers: { "retry-after-ms": "50" } }))
    const before = server.requests.length
    const once = await run(["exec", "--max-retries", "0", "hi"], undefined, { BYOK_MAX_RETRIES: "2" })
    expect(once.code).toBe(4)
    expect(server.requests.length - before).toBe(1)
  })

  test("connection refused → exit 5", async () => {
    const cfg = join(home, "refused.json")
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
    const port = closed.port
    closed.stop(true)
    writeFileSync(cfg, JSON.stringify({
      customModels: [{
        displayName: "Down",
        model: "m",
        baseUrl: `http://127.0.0.1:${port}/v1`,
        apiKey: CANARY,
        provider: "generic-chat-completion-api",
        maxOutputTokens: 10
      }]
    }))
    const r = await run(["exec", "--config", cfg, "hi"])
    expect(r.code).toBe(5)
    expect(r.stderr).toContain("connection refused")
  })

  test("the answer cut at max tokens is noted on stderr", async () => {
    server.handle(() =>
      sseResponse(sse({ model: "m", choices: [{ index: 0, delta: { content: "Once" }, finish_reason: "length" }] }, "[DONE]"))
    )
    const r = await run(["exec", "story"])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("Once\n")
    expect(r.stderr).toContain("cut short at the output limit (512 tokens)")
  })

  test("SIGINT mid-stream → exit 130, the partial answer stays on stdout", async () => {
    const held = heldStream(sse({ model: "m", choices: [{ index: 0, delta: { content: "partial" }, finish_reason: null }] }))
    server.handle(() => held.response)
    const ledgerHome = mkdtempSync(join(tmpdir(), "byok-data-"))
    const proc = Bun.spawn([bin, "exec", "long story"], {
      env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_HOME: ledgerHome, NO_COLOR: "1" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe"
    })
    const reader = proc.stdout.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe("partial")
    proc.kill("SIGINT")
    expect(await proc.exited).toBe(130)
    held.release()
    const rows = new Database(join(ledgerHome, "ledger.db"), { readonly: true }).query("SELECT outcome, model_name FROM requests").all()
    expect(rows).toEqual([{ outcome: "interrupted", model_name: "Local [llama.cpp]" }])
  })

  test("-o json: one result object with usage and cost; every request lands in the ledger", async () => {
    const ledgerHome = mkdtempSync(join(tmpdir(), "byok-data-"))
    server.handle((req) => sseResponse(req.path === "/v1/messages" ? fixture("anthropic", "cache-read") : chatAnswer(["4"])))
    const r = await run(["exec", "-o", "json", "-m", "Claude", "2+2?"], undefined, { BYOK_HOME: ledgerHome })
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result).toMatchObject({
      type: "result",
      subtype: "success",
      is_error: false,
      num_turns: 1,
      result: "From cache.",
      model: "Claude",
      provider: "anthropic",
      stop_reason: "stop",
      usage: { input_tokens: 5, cache_read_input_tokens: 3068, cache_creation_input_tokens: 0, output_tokens: 21 },
      exit_code: 0
    })
    expect(typeof result.duration_ms).toBe("number")
    expect(typeof result.session_id).toBe("string")
    // A loopback server is local: it costs 0 and says so.
    expect(result.total_cost_usd).toBe(0)
    expect(result.cost).toMatchObject({ priced: true, source: "local" })

    server.handle(() => new Response("{}", { status: 429 }))
    const failed = await run(["exec", "-o", "json", "hi"], undefined, { BYOK_HOME: ledgerHome })
    expect(failed.code).toBe(4)
    expect(JSON.parse(failed.stdout)).toMatchObject({ subtype: "error", is_error: true, exit_code: 4, error: { type: "RateLimitError" } })

    const cost = JSON.parse((await run(["cost", "--json"], undefined, { BYOK_HOME: ledgerHome })).stdout)
    expect(cost.total).toMatchObject({ requests: 2, cacheRead: 3068, failed: 1 })
    const table = await run(["cost"], undefined, { BYOK_HOME: ledgerHome })
    expect(table.stdout).toContain("HIT RATE")
    expect(table.stdout).toContain("99.8%")
  })

  test("a data directory that cannot be written: one warning for both stores, and the answer as usual", async () => {
    const notADir = join(mkdtempSync(join(tmpdir(), "byok-data-")), "file")
    writeFileSync(notADir, "")
    server.handle(() => sseResponse(chatAnswer(["answered anyway"])))
    const r = await run(["exec", "hi"], undefined, { BYOK_HOME: notADir })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("answered anyway\n")
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning:") && l.includes(notADir))
    // Both stores fail the same way in the same place: one line says so (issue 11: "with one warning").
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("nothing was recorded (cost ledger, conversation)")
    expect(warnings[0]).toContain("set BYOK_HOME to a writable directory")
  })

  test("an OpenAI model's answer without counts is counted with OpenAI's tokenizer, which the binary carries as a file", async () => {
    const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base")
    const gptHome = mkdtempSync(join(tmpdir(), "byok-home-"))
    mkdirSync(join(gptHome, ".factory"))
    writeFileSync(join(gptHome, ".factory", "config.json"), JSON.stringify({
      custom_models: [{
        model_display_name: "GPT-4o", model: "gpt-4o", base_url: `${server.url}/v1`, api_key: CANARY,
        provider: "generic-chat-completion-api", max_tokens: 64
      }]
    }))
    const text = "Tokenizers split text into subword units, like unbelievable."
    server.handle(() =>
      sseResponse(sse(
        { model: "gpt-4o", choices: [{ index: 0, delta: { content: text }, finish_reason: null }] },
        { model: "gpt-4o", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
        "[DONE]"
      ))
    )
    const r = await run(["exec", "-o", "json", "hi"], undefined, { HOME: gptHome, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-data-")) })
    expect(r.code).toBe(0)
    const usage = JSON.parse(r.stdout).usage
    expect(usage.estimated).toBe(true)
    expect(usage.output_tokens).toBe(countTokens(text))
    expect(usage.output_tokens).not.toBe(Math.ceil(text.length / 4))
  })

  test("a reader that goes away early (| head) ends byok quietly with status 0; the ledger says interrupted", async () => {
    const data = mkdtempSync(join(tmpdir(), "byok-data-"))
    // Many pieces, and then the stream stays open: the server's count (at the end) never comes.
    const held = heldStream(sse(...Array.from({ length: 3000 }, (_, i) => ({ model: "m", choices: [{ index: 0, delta: { content: `word${i} ` }, finish_reason: null }] }))))
    server.handle(() => held.response)
    const proc = Bun.spawn([bin, "exec", "-o", "stream-json", "hi"], {
      env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_HOME: data, NO_COLOR: "1" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe"
    })
    const reader = proc.stdout.getReader()
    await reader.read()
    await reader.cancel()
    expect(await proc.exited).toBe(0)
    held.release()
    expect(await new Response(proc.stderr).text()).not.toContain("error")
    const rows = new Database(join(data, "ledger.db"), { readonly: true })
      .query("SELECT outcome, estimated, input_uncached > 0 AS hasInput, output_tokens > 0 AS hasOutput FROM requests").all()
    // The server's count never came: byok's own is booked, and marked as such.
    expect(rows).toEqual([{ outcome: "interrupted", estimated: 1, hasInput: 1, hasOutput: 1 }])
    const cost = await run(["cost"], undefined, { BYOK_HOME: data })
    expect(cost.stdout).toMatch(/1 request \(1 interrupted\): local/)
    expect(cost.stdout).toContain("~ 1 request's tokens are byok's estimate")
    expect(cost.stdout).toMatch(/Local \[llama\.cpp\] +1 +~\d/)
    const json = JSON.parse((await run(["cost", "--json"], undefined, { BYOK_HOME: data })).stdout)
    expect(json.total).toMatchObject({ estimated: true, estimatedRequests: 1 })
  })

  test("-o stream-json: an init line, one line per event, then the result", async () => {
    server.handle(() => sseResponse(chatAnswer(["a", "b"])))
    const r = await run(["exec", "-o", "stream-json", "hi"])
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l))
    expect(lines[0]).toMatchObject({ type: "system", subtype: "init", model: "Local [llama.cpp]" })
    expect(lines.filter((l) => l.type === "text_delta").map((l) => l.text).join("")).toBe("ab")
    expect(lines.at(-2)).toMatchObject({ type: "finish", stop_reason: "stop" })
    expect(lines.at(-1)).toMatchObject({ type: "result", result: "ab", usage: { input_tokens: 9, output_tokens: 2 } })
  })

  test("a corrupt ledger: one warning, and the answer as usual", async () => {
    const ledgerHome = mkdtempSync(join(tmpdir(), "byok-data-"))
    writeFileSync(join(ledgerHome, "ledger.db"), "garbage ".repeat(500))
    server.handle(() => sseResponse(chatAnswer(["still here"])))
    const r = await run(["exec", "hi"], undefined, { BYOK_HOME: ledgerHome })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("still here\n")
    const warnings = r.stderr.split("\n").filter((l) => l.includes("cost ledger"))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("move")
  })

  test("byok's own files hold no byte of the key, after an answer and after a failure whose server echoed it", async () => {
    const data = mkdtempSync(join(tmpdir(), "byok-data-"))
    server.handle(() => sseResponse(chatAnswer(["fine"])))
    expect((await run(["exec", "hi"], undefined, { BYOK_HOME: data })).code).toBe(0)
    server.handle(() =>
      new Response(JSON.stringify({ error: { message: `Incorrect API key provided: ${CANARY}` } }), {
        status: 401,
        headers: { "x-echo": CANARY }
      })
    )
    expect((await run(["exec", "-c", "again"], undefined, { BYOK_HOME: data })).code).toBe(3)
    const files = readdirSync(data)
    expect(files).toContain("ledger.db")
    expect(files).toContain("sessions.db")
    const bytes = files.map((f) => readFileSync(join(data, f)).toString("latin1")).join("")
    // The files were read as stored: the saved answer is in them (the failed turn is not saved).
    expect(bytes.includes("fine")).toBe(true)
    expect(bytes.includes(CANARY)).toBe(false)
    expect(bytes.includes(CANARY.slice(0, 12))).toBe(false)
  })

  test("a damaged store that a command needs → exit 6, naming the file and the fix", async () => {
    const data = mkdtempSync(join(tmpdir(), "byok-data-"))
    writeFileSync(join(data, "ledger.db"), "garbage ".repeat(500))
    writeFileSync(join(data, "sessions.db"), "garbage ".repeat(500))
    for (const args of [["cost"], ["sessions"], ["exec", "-c", "hi"]]) {
      const r = await run(args, undefined, { BYOK_HOME: data })
      expect(r.code).toBe(6)
      expect(r.stderr).toContain(data)
      expect(r.stderr).toContain("aside")
    }
  })

  test("byok cost and byok sessions: filters that match nothing say so, JSON rows carry hit rate and savings, short ids, ISO dates, the prompt as label", async () => {
    const data = mkdtempSync(join(tmpdir(), "byok-data-"))
    server.handle(() => sseResponse(chatAnswer(["summary"])))
    expect((await run(["exec", "Summarise this"], "a long piped diff\n", { BYOK_HOME: data })).code).toBe(0)
    const nope = await run(["cost", "-m", "nope"], undefined, { BYOK_HOME: data })
    expect(nope.stdout).toContain(`No requests for model "nope" (1 request on record in all, for: Local [llama.cpp])`)
    const json = JSON.parse((await run(["cost", "--json"], undefined, { BYOK_HOME: data })).stdout)
    for (const rowOf of [json.total, ...json.byModel, ...json.byDay, ...json.byConversation]) {
      expect(rowOf).toHaveProperty("hitRate")
      expect(rowOf).toHaveProperty("savings")
    }
    expect(json.byConversation[0].title).toBe("Summarise this")
    const table = (await run(["cost"], undefined, { BYOK_HOME: data })).stdout
    expect(table).toMatch(/\n[0-9a-f]{8}  Summarise this +1 /)
    const sessions = (await run(["sessions"], undefined, { BYOK_HOME: data })).stdout
    expect(sessions).toMatch(/[0-9a-f]{8} +\d{4}-\d{2}-\d{2} \d{2}:\d{2} +2 +Local \[llama\.cpp\] +Summarise this/)
  })

  test("a script holds a multi-turn conversation: -o json gives the session id, -s and --continue go on", async () => {
    const data = mkdtempSync(join(tmpdir(), "byok-data-"))
    let n = 0
    server.handle(() => sseResponse(chatAnswer([`reply ${++n}`])))
    const first = JSON.parse((await run(["exec", "-o", "json", "--system", "be brief", "first"], undefined, { BYOK_HOME: data })).stdout)
    expect(first.result).toBe("reply 1")
    const second = await run(["exec", "-s", first.session_id.slice(0, 8), "second"], undefined, { BYOK_HOME: data })
    expect(second.stdout).toBe("reply 2\n")
    await run(["exec", "--continue", "third"], undefined, { BYOK_HOME: data })
    expect((server.requests.at(-1)!.body as { messages: unknown }).messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "first" },
      { role: "assistant", content: "reply 1" },
      { role: "user", content: "second" },
      { role: "assistant", content: "reply 2" },
      { role: "user", content: "third" }
    ])
    const sessions = JSON.parse((await run(["sessions", "--json"], undefined, { BYOK_HOME: data })).stdout)
    expect(sessions).toHaveLength(1)
    expect(sessions[0]).toMatchObject({ id: first.session_id, title: "first", messages: 6, model: "Local [llama.cpp]" })
    const missing = await run(["exec", "-s", "nope", "hi"], undefined, { BYOK_HOME: data })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain(`No saved conversation "nope"`)
  })

  test("--input-format stream-json: one user message per line in, one result per line out, one conversation", async () => {
    const data = mkdtempSync(join(tmpdir(), "byok-data-"))
    let n = 0
    server.handle(() => sseResponse(chatAnswer([`reply ${++n}`])))
    const input = [
      JSON.stringify({ type: "user", message: { role: "user", content: "one" } }),
      JSON.stringify({ type: "user", message: { role: "user", content: [{ type: "text", text: "two" }] } }),
      "not json",
      JSON.stringify({ role: "user", content: "three" })
    ].join("\n") + "\n"
    const r = await run(["exec", "--input-format", "stream-json"], input, { BYOK_HOME: data })
    const results = r.stdout.trim().split("\n").map((l) => JSON.parse(l))
    expect(results.map((x) => [x.type, x.is_error, x.result ?? null])).toEqual([
      ["result", false, "reply 1"],
      ["result", false, "reply 2"],
      ["result", true, null],
      ["result", false, "reply 3"]
    ])
    expect(new Set(results.map((x) => x.session_id)).size).toBe(1)
    expect(results[2].error.message).toContain("stdin line 3")
    expect(r.code).toBe(2)
    expect((server.requests.at(-1)!.body as { messages: Array<{ content: string }> }).messages.map((m) => m.content))
      .toEqual(["one", "reply 1", "two", "reply 2", "three"])
  })

  test("chat with stdin not a terminal: one message or command per line, /exit ends it, no colour", async () => {
    let n = 0
    server.handle(() => sseResponse(chatAnswer([`reply ${++n}`])))
    const r = await run(["chat"], "hello\n/modle\n/exit\nnever sent\n", { NO_COLOR: "" })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("reply 1")
    expect(r.stdout).toContain("Unknown command /modle. Did you mean /model?")
    expect(r.stdout).not.toContain("\x1b[")
    expect(n).toBe(1)
  })

  test("usage and config errors → exit 2", async () => {
    expect((await run(["exec"])).code).toBe(2)
    const unknown = await run(["exec", "-m", "nope", "hi"])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("Local [llama.cpp]")
    const broken = await run(["exec", "-m", "Broken", "hi"])
    expect(broken.code).toBe(2)
    expect(broken.stderr).toContain(`Invalid provider "OpenAI"`)
    const flag = await run(["exec", "--bogus"])
    expect(flag.code).toBe(2)
    expect(flag.stdout).toBe("")
    const badJson = join(home, "bad.json")
    writeFileSync(badJson, "{\n  \"custom_models\": [,]\n}\n")
    const parse = await run(["exec", "--config", badJson, "hi"])
    expect(parse.code).toBe(2)
    expect(parse.stderr).toContain(`${badJson}:2:21`)
    expect(parse.stderr).toContain("^")
  })

  test("models lists names, never keys; --json too", async () => {
    const table = await run(["models"])
    expect(table.code).toBe(0)
    expect(table.stdout).toContain("Local [llama.cpp]")
    const json = JSON.parse((await run(["models", "--json"])).stdout)
    expect(json[0]).toMatchObject({ displayName: "Local [llama.cpp]", provider: "generic-chat-completion-api" })
  })

  test("the command line as people type it: root flags before a command, a question, help and version as words", async () => {
    server.handle(() => sseResponse(chatAnswer(["four"])))
    const before = await run(["-m", "Local [llama.cpp]", "exec", "2+2?"])
    expect(before.code).toBe(0)
    expect(before.stdout).toBe("four\n")
    const misplaced = await run(["--system", "terse", "models"])
    expect(misplaced.code).toBe(2)
    expect(misplaced.stderr).toContain("byok models has no --system")
    const question = await run(["what is 2+2"], "")
    expect(question.code).toBe(0)
    expect(question.stderr).toContain("› what is 2+2")
    expect(question.stdout).toContain("four")
    expect((server.requests.at(-1)!.body as { messages: Array<{ content: string }> }).messages.at(-1)!.content).toBe("what is 2+2")
    expect((await run(["help", "exec"])).stdout).toContain("--max-tokens")
    expect((await run(["version"])).stdout).toMatch(/^byok v\d+\.\d+\.\d+ \(/)
    const help = (await run(["--help"])).stdout
    expect(help).not.toContain("--wizard")
    expect(help).not.toContain("--log-level")
    expect(help).toContain("--completions")
    const wizard = await run(["--wizard"])
    expect(wizard.code).toBe(2)
    expect(wizard.stderr).toContain("byok has no --wizard")
    expect(wizard.stderr).toContain("byok help")
  })

  test("--help and --version", async () => {
    const help = await run(["--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("exec")
    const execHelp = await run(["exec", "--help"])
    expect(execHelp.stdout).toContain("EXAMPLES")
    expect((await run(["--version"])).stdout).toMatch(/\d+\.\d+\.\d+/)
  })

  test("the version answered before the application loads is the line effect/cli prints", async () => {
    // `exec --version` is not the entry's short cut: effect/cli answers it.
    const fromCli = await run(["exec", "--version"])
    expect(fromCli.code).toBe(0)
    expect(fromCli.stdout).toMatch(/^byok v\d+\.\d+\.\d+ \(/)
    for (const args of [["--version"], ["-v"], ["version"]]) {
      const fast = await run(args)
      expect({ args, code: fast.code, stdout: fast.stdout, stderr: fast.stderr }).toEqual({ args, code: 0, stdout: fromCli.stdout, stderr: "" })
    }
    // Neither the version nor help opens a store: the data directory is not even made.
    const untouched = join(mkdtempSync(join(tmpdir(), "byok-untouched-")), "data")
    for (const args of [["--version"], ["--help"], ["exec", "--help"], ["exec", "--config", "x", "--help"], ["exec", "--version"]]) {
      expect((await run(args, undefined, { BYOK_HOME: untouched })).code).toBe(0)
    }
    expect(existsSync(untouched)).toBe(false)
    if (existsSync("/dev/full")) {
      const full = Bun.spawnSync(["sh", "-c", `"${bin}" --version > /dev/full`], { env: { PATH: process.env["PATH"] ?? "" } })
      expect(full.exitCode).toBe(1)
      expect(full.stderr.toString()).toContain("Cannot write to standard output: no space is left on the device (ENOSPC)")
    }
  })

  test("the help pages answered before the application loads are what effect/cli prints", async () => {
    // Each command with a flag it takes, which is no form the entry answers: effect/cli renders that help.
    const forms: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
      ["", ["--config", "x"]],
      ["chat", ["--config", "x"]],
      ["exec", ["--config", "x"]],
      ["models", ["--json"]],
      ["cost", ["--json"]],
      ["sessions", ["--json"]],
      ["doctor", ["--json"]]
    ]
    for (const [command, flag] of forms) {
      const words = command === "" ? [] : [command]
      const fromCli = await run([...words, ...flag, "--help"])
      expect(fromCli.code).toBe(0)
      expect(fromCli.stdout).toContain("USAGE")
      const asked = command === ""
        ? [["--help"], ["-h"], ["help"]]
        : [[command, "--help"], [command, "-h"], ["help", command]]
      for (const args of asked) {
        const fast = await run(args)
        expect({ args, code: fast.code, stdout: fast.stdout, stderr: fast.stderr }).toEqual({ args, code: 0, stdout: fromCli.stdout, stderr: "" })
      }
    }
  })

  test("a .env and a bunfig.toml in the working directory are not read", async () => {
    // They belong to the user's project: Bun's compiled binaries load both unless built not to (build.ts).
    const project = mkdtempSync(join(tmpdir(), "byok-project-"))
    const marker = join(project, "preloaded")
    writeFileSync(join(project, ".env"), `BYOK_CONFIG=${join(project, "missing.json")}\nNO_COLOR=\n`)
    writeFileSync(join(project, "bunfig.toml"), `preload = ["./preload.ts"]\n`)
    writeFileSync(join(project, "preload.ts"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran")\n`)
    const proc = Bun.spawnSync([bin, "models"], {
      cwd: project,
      env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_HOME: dataHome, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe"
    })
    // The config of HOME was read (one of its entries is broken on purpose), not the .env's missing file.
    expect(proc.stderr.toString()).not.toContain("missing.json")
    expect(proc.exitCode).toBe(0)
    expect(proc.stdout.toString()).toContain("Local [llama.cpp]")
    expect(existsSync(marker)).toBe(false)
  })
})
