// Local model servers, end to end with the compiled binary: each server recognised with the context it serves,
// context errors with their numbers and that server's fix, Ollama's dropped prompts noticed, a model not pulled on
// any port, Responses conversations on llama.cpp's strict converter, and discovery with no config at all.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { type FakeLocalServer, type Kind, startLocalServer } from "./lib/local-servers.ts"
import { runBinary } from "./lib/run.ts"

let bin: string
let home: string
const servers: Partial<Record<Kind, FakeLocalServer>> = {}
const CONTEXT = 256

beforeAll(() => {
  bin = byokBinary()
  servers.ollama = startLocalServer("ollama", { models: ["qwen3:4b"], context: CONTEXT, loaded: true })
  servers["llama.cpp"] = startLocalServer("llama.cpp", { models: ["tiny"], context: CONTEXT })
  servers.vllm = startLocalServer("vllm", { models: ["big"], context: CONTEXT })
  servers.lmstudio = startLocalServer("lmstudio", { models: ["studio"], context: CONTEXT })
  home = mkdtempSync(join(tmpdir(), "byok-local-"))
  mkdirSync(join(home, ".factory"))
  const model = (displayName: string, kind: Kind, id: string, provider = "generic-chat-completion-api") => ({
    displayName,
    model: id,
    baseUrl: `${servers[kind]!.url}/v1`,
    apiKey: "local",
    provider,
    maxOutputTokens: 64
  })
  writeFileSync(
    join(home, ".factory", "settings.json"),
    JSON.stringify({
      customModels: [
        model("Qwen [Ollama]", "ollama", "qwen3:4b"),
        model("Gone [Ollama]", "ollama", "llama9"),
        model("Tiny [llama.cpp]", "llama.cpp", "tiny"),
        model("Tiny R [llama.cpp]", "llama.cpp", "tiny", "openai"),
        model("Big [vLLM]", "vllm", "big"),
        model("Studio [LM Studio]", "lmstudio", "studio")
      ]
    })
  )
}, 120_000)

afterAll(() => {
  for (const s of Object.values(servers)) s.stop()
})

const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  runBinary(bin, args, { HOME: home, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-data-")), BYOK_MAX_RETRIES: "0", ...env })

/** About 500 tokens by byok's estimate (and the fakes' count): more than the 256 served. */
const LONG = "word ".repeat(400)

describe("context, per server", () => {
  const cases = [
    { name: "Tiny [llama.cpp]", server: "llama.cpp", fix: "llama-server -m model.gguf -c 8192" },
    { name: "Big [vLLM]", server: "vLLM", fix: "vllm serve big --max-model-len 8192" },
    { name: "Studio [LM Studio]", server: "LM Studio", fix: "lms load studio --context-length 8192" }
  ] as const
  for (const c of cases) {
    test(`${c.server}: warned before the refusal; which says prompt and context, and how to serve more`, async () => {
      const r = await run(["exec", "-m", c.name, LONG])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`but ${c.server} serves`)
      // The server is asked while the request is on its way: its answer still comes first.
      expect(r.stderr.indexOf(`but ${c.server} serves`)).toBeLessThan(r.stderr.indexOf("longer than the context window"))
      expect(r.stderr).toContain(`with ${CONTEXT} tokens of context`)
      expect(r.stderr).toMatch(new RegExp(`longer than the context window of "${c.name.replace(/[[\]]/g, "\\$&")}" \\(prompt \\d+ tokens, context ${CONTEXT}\\)`))
      expect(r.stderr).toContain(c.fix)
      expect(r.stderr).not.toContain("Check the entry")
    })
  }

  test("Ollama: the prompt is cut from the start and answered; byok says so, with Ollama's fix", async () => {
    const r = await run(["exec", "-m", "Qwen [Ollama]", "--system", "Always answer in French.", LONG])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("ok\n")
    expect(r.stderr).toContain("Ollama drops the start of a prompt that does not fit")
    expect(r.stderr).toMatch(/Ollama read only 256 of about \d+ prompt tokens: it dropped the start of the conversation/)
    expect(r.stderr).toContain("OLLAMA_CONTEXT_LENGTH=8192 ollama serve")
  })

  test("a prompt that fits gets no warning", async () => {
    const r = await run(["exec", "-m", "Tiny [llama.cpp]", "hi"])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe("")
  })
})

test("Ollama on a port of its own: a model not pulled means ollama pull, and the pulled ones are listed", async () => {
  expect(servers.ollama!.port).not.toBe(11434)
  const r = await run(["exec", "-m", "Gone [Ollama]", "hi"])
  expect(r.code).toBe(1)
  expect(r.stderr).toContain("ollama pull llama9")
  expect(r.stderr).toContain("Pulled models: qwen3:4b")
})

test("Responses on llama.cpp: a second turn sends typed items, which its strict converter accepts", async () => {
  const data = mkdtempSync(join(tmpdir(), "byok-data-"))
  const first = await run(["exec", "-m", "Tiny R [llama.cpp]", "hello"], { BYOK_HOME: data })
  expect(first.stdout).toBe("turn 1\n")
  const second = await run(["exec", "-c", "and again"], { BYOK_HOME: data })
  expect(second.stderr).toBe("")
  expect(second.code).toBe(0)
  expect(second.stdout).toBe("turn 3\n")
})

describe("discovery with no config", () => {
  const empty = () => {
    const dir = mkdtempSync(join(tmpdir(), "byok-nohome-"))
    return { HOME: dir, XDG_CONFIG_HOME: join(dir, ".config") }
  }
  const portFree = (port: number) => {
    try {
      Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true)
      return true
    } catch {
      return false
    }
  }
  const defaultsFree = [11434, 8080].every(portFree)

  test.skipIf(!defaultsFree)("servers on their default ports: their models are listed, usable with -m, and --save keeps them", async () => {
    const ollama = startLocalServer("ollama", { models: ["qwen3:4b", "llama3.2"], context: 4096, port: 11434 })
    const llama = startLocalServer("llama.cpp", { models: ["tiny"], context: 4096, port: 8080 })
    try {
      const env = empty()
      const list = await run(["models"], env)
      expect(list.code).toBe(0)
      expect(list.stdout).toContain("qwen3:4b [Ollama]")
      expect(list.stdout).toContain("llama3.2 [Ollama]")
      expect(list.stdout).toContain("tiny [llama.cpp]")
      const answer = await run(["exec", "-m", "tiny [llama.cpp]", "hi"], env)
      expect(answer.code).toBe(0)
      expect(answer.stdout).toBe("ok\n")
      expect(answer.stderr).toContain(`no models are configured: using "tiny [llama.cpp]", found at http://127.0.0.1:8080/v1`)
      const saved = await run(["models", "--discover", "--save"], env)
      expect(saved.code).toBe(0)
      expect(saved.stderr).toContain("Saved 3 models")
      const own = JSON.parse(readFileSync(join(env.XDG_CONFIG_HOME, "byok", "config.json"), "utf8"))
      expect(own.customModels.map((m: { displayName: string }) => m.displayName)).toEqual([
        "qwen3:4b [Ollama]",
        "llama3.2 [Ollama]",
        "tiny [llama.cpp]"
      ])
      // Each output cap fits the context served (a quarter of it): llama.cpp serving 4,096 is not given 8,192;
      // Ollama, whose context is unknown before a model loads, gets a quarter of its default 4,096.
      expect(own.customModels.map((m: { maxOutputTokens: number }) => m.maxOutputTokens)).toEqual([1024, 1024, 1024])
      const quiet = await run(["exec", "-m", "tiny [llama.cpp]", "hi"], env)
      expect(quiet.stderr).not.toContain("will not fit")
    } finally {
      ollama.stop()
      llama.stop()
    }
  })

  test.skipIf(!portFree(8080))("nothing listening, or a port that never answers: no models, said at once", async () => {
    const hung = Bun.listen({ hostname: "127.0.0.1", port: 8080, socket: { data() {} } })
    try {
      const env = empty()
      const started = Date.now()
      const r = await run(["exec", "hi"], env)
      expect(Date.now() - started).toBeLessThan(2000)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain("No models configured")
      expect(r.stderr).toContain("No local server was found either")
      expect(existsSync(join(env.XDG_CONFIG_HOME, "byok"))).toBe(false)
    } finally {
      hung.stop(true)
    }
  })
})

describe("byok doctor", () => {
  const doctorHome = (models: ReadonlyArray<Record<string, unknown>>) => {
    const dir = mkdtempSync(join(tmpdir(), "byok-doctor-"))
    mkdirSync(join(dir, ".factory"))
    writeFileSync(join(dir, ".factory", "settings.json"), JSON.stringify({ customModels: models }), { mode: 0o644 })
    return dir
  }
  const entry = (over: Record<string, unknown>) => ({
    displayName: "M",
    model: "tiny",
    baseUrl: `${servers["llama.cpp"]!.url}/v1`,
    apiKey: "${LOCAL_KEY}",
    provider: "generic-chat-completion-api",
    maxOutputTokens: 64,
    ...over
  })
  const doctor = (models: ReadonlyArray<Record<string, unknown>>, args: ReadonlyArray<string> = []) =>
    run(["doctor", ...args], { HOME: doctorHome(models), LOCAL_KEY: "local" })

  test("a healthy local model: every check passes, with the server, the context and the first token", async () => {
    const r = await doctor([entry({ displayName: "Qwen [Ollama]", model: "qwen3:4b", baseUrl: `${servers.ollama!.url}/v1` })])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    for (const line of [/✓ config/, /✓ connect/, /✓ server +Ollama/, /✓ base_url/, /✓ model/, /✓ key/, /✓ stream/, /✓ price +local \(free\)/, /✓ context +Ollama serves 256 tokens/, /✓ first token/]) {
      expect(r.stdout).toMatch(line)
    }
    expect(r.stdout).not.toContain("✗")
  })

  test("model not appearing: ✗ model, with the ones served and Ollama's pull", async () => {
    const r = await doctor([entry({ model: "qwen3", baseUrl: `${servers.ollama!.url}/v1` })])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/✗ model +"qwen3" is not among the 1 it serves; did you mean "qwen3:4b"\?/)
    expect(r.stdout).toContain("fix: ollama pull qwen3")
  })

  test("invalid provider: ✗ config, naming the field and the fix (exit 2)", async () => {
    const r = await doctor([entry({ provider: "chat-completions" })])
    expect(r.code).toBe(2)
    expect(r.stdout).toContain(`✗ config`)
    expect(r.stdout).toContain(`Did you mean "generic-chat-completion-api"?`)
  })

  test("local model won't connect: ✗ connect with the command that starts it, within a few seconds (exit 5)", async () => {
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
    const port = closed.port
    closed.stop(true)
    const started = Date.now()
    const r = await doctor([entry({ baseUrl: `http://127.0.0.1:${port}/v1` })])
    expect(Date.now() - started).toBeLessThan(5000)
    expect(r.code).toBe(5)
    expect(r.stdout).toContain("✗ connect")
    expect(r.stdout).toContain("connection refused")
    expect(r.stdout).toContain("- key")
  })

  test("a base_url without /v1: ✗ base_url, with the one that works (exit 2)", async () => {
    const r = await doctor([entry({ baseUrl: servers["llama.cpp"]!.url })])
    expect(r.code).toBe(2)
    expect(r.stdout).toContain(`fix: set base_url to "${servers["llama.cpp"]!.url}/v1"`)
  })

  test("authentication errors: ✗ key (exit 3); rate limits and quotas: ✗ quota (exit 4)", async () => {
    const { startServer } = await import("./lib/server.ts")
    const server = startServer()
    try {
      server.handle(() => new Response(JSON.stringify({ error: { message: "Incorrect API key provided" } }), { status: 401 }))
      const auth = await doctor([entry({ baseUrl: `${server.url}/v1` })])
      expect(auth.code).toBe(3)
      expect(auth.stdout).toContain("✗ key")
      expect(auth.stdout).toContain("rejected the API key")
      server.handle((req) =>
        req.method === "GET"
          ? new Response(JSON.stringify({ data: [{ id: "tiny" }] }), { headers: { "content-type": "application/json" } })
          : new Response(JSON.stringify({ error: { message: "You exceeded your current quota", type: "insufficient_quota" } }), { status: 429 })
      )
      const quota = await doctor([entry({ baseUrl: `${server.url}/v1` })])
      expect(quota.code).toBe(4)
      expect(quota.stdout).toContain("✗ quota")
      expect(quota.stdout).toContain("Waiting will not help")
    } finally {
      server.stop()
    }
  })

  test("an output cap that alone fills the context served: ! context, with a cap that fits", async () => {
    const r = await doctor([entry({ maxOutputTokens: CONTEXT * 2 })])
    expect(r.stdout).toMatch(/! context +llama\.cpp serves 256 tokens, and maxOutputTokens \(512\) alone asks for that much or more/)
    expect(r.stdout).toContain(`fix: set maxOutputTokens of "M" in`)
    expect(r.stdout).toContain("to about 64")
  })

  test("a key written in a file others can read: ! key file, with the chmod that fixes it; --json", async () => {
    const r = await doctor([entry({ apiKey: "sk-literal-local-key-000000" })], ["--json"])
    expect(r.code).toBe(0)
    const [report] = JSON.parse(r.stdout) as Array<{ checks: Array<{ name: string; status: string; fix?: string }> }>
    const keyFile = report!.checks.find((c) => c.name === "key file")
    expect(keyFile?.status).toBe("warn")
    expect(keyFile?.fix).toContain("chmod 600")
  })
})
