// Tool calls from a real llama.cpp llama-server (built by ../shared/tools/build-llama.sh), through all three wire
// formats: started here with --jinja and a chat template that declares tools, with calls after a one-character
// marker (test/fixtures/llama/tools.jinja), the tiny random-weight model is made by its grammar to write a call when
// tool_choice is "required". Skipped, with a message, where the binary or the model is absent.
import { Database } from "bun:sqlite"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { runBinary } from "./lib/run.ts"

const dir = process.env["LLAMA_DIR"] ?? "/tmp/llama"
const server = process.env["LLAMA_SERVER"] ?? join(dir, "llama.cpp", "build", "bin", "llama-server")
const model = process.env["LLAMA_MODEL"] ?? join(dir, "tiny.gguf")
const ready = existsSync(server) && existsSync(model)
if (!ready) console.warn(`llama-server tool tests skipped: no ${server} or ${model} (../shared/tools/build-llama.sh builds both)`)

let bin: string
let home: string
let proc: ReturnType<typeof Bun.spawn> | undefined
let port = 0

beforeAll(async () => {
  if (!ready) return
  bin = byokBinary()
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  port = probe.port
  probe.stop(true)
  proc = Bun.spawn([
    server, "-m", model, "--host", "127.0.0.1", "--port", String(port), "-c", "4096", "--alias", "tiny", "--jinja",
    "--chat-template-file", join(import.meta.dir, "fixtures", "llama", "tools.jinja"), "--seed", "1"
  ], { stdout: "ignore", stderr: "ignore" })
  for (let i = 0; i < 240; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)
    if (up) break
    await Bun.sleep(250)
  }
  home = mkdtempSync(join(tmpdir(), "byok-llama-tools-"))
  mkdirSync(join(home, ".factory"))
  const entry = (displayName: string, provider: string, baseUrl: string) =>
    ({ displayName, model: "tiny", baseUrl, apiKey: "local", provider, maxOutputTokens: 400 })
  writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({
    customModels: [
      entry("Chat", "generic-chat-completion-api", `http://127.0.0.1:${port}/v1`),
      entry("Messages", "anthropic", `http://127.0.0.1:${port}`),
      entry("Responses", "openai", `http://127.0.0.1:${port}/v1`)
    ]
  }))
  writeFileSync(join(home, "tools.json"), JSON.stringify([
    { type: "function", function: { name: "get_weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }
  ]))
}, 120_000)

afterAll(() => proc?.kill())

describe.skipIf(!ready)("a real llama-server returns tool calls", () => {
  for (const name of ["Chat", "Messages", "Responses"]) {
    test(`${name}: tool_choice required gives a call of the declared tool, finishing with tool-calls`, async () => {
      const r = await runBinary(bin, [
        "exec", "-m", name, "--tools", join(home, "tools.json"), "--tool-choice", "required", "-o", "json", "--timeout", "120", "Weather in Paris?"
      ], { HOME: home, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-llama-data-")), BYOK_MAX_RETRIES: "0" })
      const json = JSON.parse(r.stdout)
      expect(json.is_error).toBe(false)
      expect(json.stop_reason).toBe("tool-calls")
      expect(json.tool_calls.length).toBeGreaterThan(0)
      expect(json.tool_calls[0].name).toBe("get_weather")
    }, 150_000)
  }
})

describe.skipIf(!ready)("caching through a tool loop on llama-server", () => {
  test("the loop's second request reads from the server's cache what the first wrote (timings.cache_n)", async () => {
    const data = mkdtempSync(join(tmpdir(), "byok-llama-data-"))
    const env = { HOME: home, BYOK_HOME: data, BYOK_MAX_RETRIES: "0" }
    const tools = ["--tools", join(home, "tools.json"), "--timeout", "120"]
    const first = await runBinary(bin, ["exec", "-m", "Chat", ...tools, "--tool-choice", "required", "-o", "json", "Weather in Paris?"], env)
    expect(JSON.parse(first.stdout).tool_calls.length).toBeGreaterThan(0)
    const second = await runBinary(bin, ["exec", "-c", ...tools, "--tool-choice", "required", "--max-tokens", "200", "-o", "json", "And in Rome?"], env)
    expect(JSON.parse(second.stdout).is_error).toBe(false)
    const rows = new Database(join(data, "ledger.db"), { readonly: true })
      .query("SELECT input_uncached + cache_read AS input, cache_read AS read FROM requests ORDER BY id").all() as Array<{ input: number; read: number }>
    expect(rows).toHaveLength(2)
    // The second prompt begins with the whole first one: the server found it in its cache.
    expect(rows[1]!.read).toBeGreaterThan(rows[0]!.input / 2)
  }, 300_000)
})

describe.skipIf(!ready)("the agent loop on llama-server", () => {
  test("exec --auto off runs what the model calls and sends the results back, until it answers or the limit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "byok-llama-agent-"))
    writeFileSync(join(dir, "README.md"), "# Demo\n")
    const proc = Bun.spawn([bin, "exec", "-m", "Chat", "--auto", "off", "--max-turns", "4", "--max-tokens", "200", "--timeout", "120", "-o", "stream-json", "List the files here"], {
      cwd: dir,
      env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1", HOME: home, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-llama-data-")), BYOK_MAX_RETRIES: "0" },
      stdout: "pipe",
      stderr: "pipe"
    })
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)
    const result = lines.at(-1)!
    expect(result["type"]).toBe("result")
    // A random model may answer at once, call tools until the limit, or call what does not exist: each ends cleanly.
    expect([0, 1]).toContain(code)
    const calls = result["tool_calls"] as Array<unknown>
    expect(lines.filter((l) => l["type"] === "tool_result")).toHaveLength(calls.length)
    expect(result["num_requests"]).toBeGreaterThanOrEqual(1)
    expect(result["num_requests"]).toBeLessThanOrEqual(4)
  }, 300_000)
})

describe.skipIf(!ready)("a conversation longer than llama-server's 2,048-token context", () => {
  test("goes on: byok learns the window from the server, compacts, and every request is answered", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
    const small = probe.port
    probe.stop(true)
    const tiny = Bun.spawn([server, "-m", model, "--host", "127.0.0.1", "--port", String(small), "-c", "2048", "--alias", "tiny", "--seed", "1"], { stdout: "ignore", stderr: "ignore" })
    try {
      for (let i = 0; i < 240 && !(await fetch(`http://127.0.0.1:${small}/health`).then((r) => r.ok, () => false)); i++) await Bun.sleep(250)
      const smallHome = mkdtempSync(join(tmpdir(), "byok-llama-small-"))
      mkdirSync(join(smallHome, ".factory"))
      writeFileSync(join(smallHome, ".factory", "settings.json"), JSON.stringify({
        customModels: [{ displayName: "Tiny", model: "tiny", baseUrl: `http://127.0.0.1:${small}/v1`, apiKey: "local", provider: "generic-chat-completion-api", maxOutputTokens: 48 }]
      }))
      const env = { HOME: smallHome, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-llama-data-")), BYOK_MAX_RETRIES: "0" }
      const said: Array<string> = []
      // Each message about 400 tokens: eight of them are far more than 2,048 tokens of history.
      for (let i = 0; i < 8; i++) {
        const text = `Message ${i}: ${"the quick brown fox jumps over the lazy dog ".repeat(36)}`
        const r = await runBinary(bin, ["exec", ...(i > 0 ? ["-c"] : []), "-m", "Tiny", "--timeout", "120", text], env)
        expect({ i, code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ i, code: 0, stderr: "" })
        said.push(r.stderr)
      }
      expect(said.join("\n")).toContain("compacted: ")
    } finally {
      tiny.kill()
    }
  }, 600_000)
})
