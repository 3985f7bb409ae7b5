// MCP servers from the compiled binary: the reference server-everything (stdio, Streamable HTTP and legacy SSE)
// called by a scripted model in each wire format; the tool-list cache (a run with cached lists starts no server);
// risk from annotations; a hand-written server that crashes, hangs, prints garbage or changes its tools; Ctrl-C
// sent on as cancellation; project servers only when trusted; the canary key never reaching a model.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { FORMATS, type Format } from "./lib/faults.ts"
import { fakeModel, homeWithModels, oneModelPerFormat } from "./lib/home.ts"
import { CANARY } from "./lib/provider.ts"
import { scripted, type Step } from "./lib/scripted.ts"
import { type FakeServer, startServer } from "./lib/server.ts"
import { startPane } from "./lib/tmux.ts"

const EVERYTHING = resolve("node_modules/.bin/mcp-server-everything")
const ODD = resolve("test/fixtures/mcp/odd-server.ts")
const NAMES: Record<Format, string> = { "generic-chat-completion-api": "Chat", anthropic: "Claude", openai: "GPT" }
/** A second secret, given to a server through `env: {"TOKEN": "${MCP_TOKEN}"}`. */
const TOKEN = "mcp-token-canary-7f3a9c21e8d4"

let bin: string
let server: FakeServer
let root: string

beforeAll(() => {
  bin = byokBinary()
  server = startServer()
  root = mkdtempSync(join(tmpdir(), "byok-mcp-"))
}, 60_000)

afterAll(() => {
  server?.stop()
  rmSync(root, { recursive: true, force: true })
})

let count = 0
const scratch = (name: string) => {
  const dir = join(root, `${name}-${++count}`)
  mkdirSync(dir, { recursive: true })
  return dir
}

/** A HOME with one model per format (Chat, Claude, GPT) and the given mcp.json. */
const homeWith = (servers: Record<string, unknown>) => {
  const home = homeWithModels(oneModelPerFormat(server.url))
  writeFileSync(join(home, ".factory", "mcp.json"), JSON.stringify({ mcpServers: servers }))
  return home
}

interface Run {
  readonly stdout: string
  readonly stderr: string
  readonly code: number
}

const run = async (
  args: ReadonlyArray<string>,
  home: string,
  data: string,
  options: { readonly cwd?: string; readonly env?: Record<string, string>; readonly signalAfter?: () => Promise<void> } = {}
): Promise<Run> => {
  const proc = Bun.spawn([bin, ...args], {
    cwd: options.cwd ?? root,
    env: {
      PATH: process.env["PATH"] ?? "",
      NO_COLOR: "1",
      HOME: home,
      BYOK_HOME: data,
      BYOK_MAX_RETRIES: "0",
      OPENAI_API_KEY: CANARY,
      MCP_TOKEN: TOKEN,
      ...options.env
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  if (options.signalAfter !== undefined) void options.signalAfter().then(() => proc.kill("SIGINT"))
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(stdout + stderr).not.toContain(CANARY)
  expect(stdout + stderr).not.toContain(TOKEN)
  return { stdout, stderr, code }
}

/** The chat, its stdin piped (one line a message or /command). */
const chatPiped = async (args: ReadonlyArray<string>, home: string, input: string, data = scratch("data")) => {
  const proc = Bun.spawn([bin, ...args], {
    cwd: root,
    env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1", HOME: home, BYOK_HOME: data, BYOK_MAX_RETRIES: "0" },
    stdin: new Blob([input]),
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code }
}

const play = (format: Format, steps: ReadonlyArray<Step>, final = "Done.") => {
  const script = scripted(format, steps, final)
  server.handle(script.handler)
  return script
}

const toolsOffered = (format: Format, index = -1): Array<string> => {
  const body = server.requests.at(index)!.body as { tools?: Array<Record<string, any>> }
  return (body.tools ?? []).map((t) => (format === "generic-chat-completion-api" ? t["function"]["name"] : t["name"]) as string)
}

const waitFor = async (check: () => boolean | Promise<boolean>, ms = 15_000) => {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting")
    await Bun.sleep(50)
  }
}

const freePort = () => {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") })
  const port = s.port!
  s.stop(true)
  return port
}

describe("server-everything through byok", () => {
  test("a scripted model in each wire format calls its tools over stdio and gets their results", async () => {
    const home = homeWith({ every: { command: EVERYTHING } })
    for (const format of FORMATS) {
      const data = scratch("data")
      const script = play(format, [
        { name: "mcp__every__echo", args: { message: "hello from byok" } },
        { name: "mcp__every__get-sum", args: { a: 2, b: 3 } }
      ], "The sum is 5.")
      const r = await run(["exec", "--auto", "low", "-m", NAMES[format], "Echo, then add 2 and 3"], home, data)
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 })
      expect(r.stdout).toContain("The sum is 5.")
      expect(toolsOffered(format)).toContain("mcp__every__echo")
      const last = script.seen.at(-1)!
      expect(last.map((x) => x.output)).toEqual([expect.stringContaining("Echo: hello from byok"), expect.stringContaining("5")])
      expect(r.stderr).toContain("mcp__every__echo")
    }
  }, 120_000)

  test("an image a tool returns reaches the model as an image after the results, in each format; a model without images is told", async () => {
    const home = homeWith({ every: { command: EVERYTHING } })
    const settings = JSON.parse(readFileSync(join(home, ".factory", "settings.json"), "utf8"))
    settings.customModels.push(fakeModel("Blind", "generic-chat-completion-api", "gpt-4.1", `${server.url}/v1`, { noImageSupport: true }))
    writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify(settings))
    const imageIn = (format: Format, body: any): boolean => {
      const all = JSON.stringify(format === "openai" ? body.input : body.messages)
      return format === "anthropic"
        ? /"type":"image","source":\{"type":"base64","media_type":"image\/png"/.test(all)
        : format === "openai"
        ? all.includes('"type":"input_image","image_url":"data:image/png;base64,')
        : all.includes('"type":"image_url","image_url":{"url":"data:image/png;base64,')
    }
    for (const format of FORMATS) {
      const script = play(format, [{ name: "mcp__every__get-tiny-image", args: {} }], "A tiny image.")
      const r = await run(["exec", "--auto", "low", "-m", NAMES[format], "Show me"], home, scratch("data"))
      expect({ format, code: r.code }).toEqual({ format, code: 0 })
      expect(script.seen.at(-1)![0]!.output).toContain("[image 1 (image/png")
      expect(imageIn(format, server.requests.at(-1)!.body)).toBe(true)
    }
    const blind = play("generic-chat-completion-api", [{ name: "mcp__every__get-tiny-image", args: {} }], "I cannot see it.")
    expect((await run(["exec", "--auto", "low", "-m", "Blind", "Show me"], home, scratch("data"))).code).toBe(0)
    expect(blind.seen.at(-1)![0]!.output).toContain("Its images are not attached")
    expect(imageIn("generic-chat-completion-api", server.requests.at(-1)!.body)).toBe(false)
  }, 120_000)

  test("over Streamable HTTP and legacy SSE", async () => {
    const httpPort = freePort()
    const ssePort = freePort()
    const http = Bun.spawn([EVERYTHING, "streamableHttp"], { env: { ...process.env, PORT: String(httpPort) }, stdout: "ignore", stderr: "pipe" })
    const sse = Bun.spawn([EVERYTHING, "sse"], { env: { ...process.env, PORT: String(ssePort) }, stdout: "ignore", stderr: "pipe" })
    try {
      const up = async (port: number) =>
        waitFor(() => fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false))
      await up(httpPort)
      await up(ssePort)
      const home = homeWith({
        web: { type: "http", url: `http://127.0.0.1:${httpPort}/mcp` },
        old: { type: "sse", url: `http://127.0.0.1:${ssePort}/sse` }
      })
      const script = play("anthropic", [
        { name: "mcp__web__echo", args: { message: "over http" } },
        { name: "mcp__old__echo", args: { message: "over sse" } }
      ])
      const r = await run(["exec", "--auto", "low", "-m", "Claude", "Echo twice"], home, scratch("data"))
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 })
      expect(script.seen.at(-1)!.map((x) => x.output)).toEqual([expect.stringContaining("Echo: over http"), expect.stringContaining("Echo: over sse")])
    } finally {
      http.kill()
      sse.kill()
    }
  }, 60_000)

  test("legacy SSE shuts down cleanly: 20 runs that call a tool each exit 0 (an aborted body's cancel was left unhandled)", async () => {
    const ssePort = freePort()
    const sse = Bun.spawn([EVERYTHING, "sse"], { env: { ...process.env, PORT: String(ssePort) }, stdout: "ignore", stderr: "pipe" })
    try {
      await waitFor(() => fetch(`http://127.0.0.1:${ssePort}/`).then(() => true, () => false))
      const home = homeWith({ old: { type: "sse", url: `http://127.0.0.1:${ssePort}/sse` } })
      const codes: Array<number> = []
      for (let i = 0; i < 20; i++) {
        play("generic-chat-completion-api", [{ name: "mcp__old__echo", args: { message: `run ${i}` } }])
        const r = await run(["exec", "--auto", "low", "-m", "Chat", "Echo"], home, scratch("data"))
        codes.push(r.code)
        if (r.code !== 0) console.log(r.stderr)
      }
      expect(codes).toEqual(Array(20).fill(0))
    } finally {
      sse.kill()
    }
  }, 120_000)

  test("no key reaches a model through a server: the server gets no key from byok's environment, and an ${VAR} it is given is redacted", async () => {
    const home = homeWith({ every: { command: EVERYTHING, env: { TOKEN: "${MCP_TOKEN}" } } })
    const script = play("openai", [{ name: "mcp__every__get-env", args: {} }], "Seen.")
    const r = await run(["exec", "--auto", "low", "-m", "GPT", "Show the environment"], home, scratch("data"))
    expect(r.code).toBe(0)
    const output = script.seen.at(-1)![0]!.output
    expect(output).toContain("TOKEN")
    expect(output).toContain("[REDACTED]")
    expect(output).not.toContain(TOKEN)
    expect(output).not.toContain(CANARY)
    expect(output).not.toContain("OPENAI_API_KEY")
  }, 60_000)
})

describe("server-filesystem through byok", () => {
  test("its read tools run at low, a file with the key in it reaches the model redacted, and write_file needs high", async () => {
    const files = scratch("files")
    writeFileSync(join(files, "notes.txt"), `the key is ${CANARY}\n`)
    const home = homeWith({ fs: { command: resolve("node_modules/.bin/mcp-server-filesystem"), args: [files] } })
    const data = scratch("data")
    const target = join(files, "new.txt")
    const low = play("anthropic", [
      { name: "mcp__fs__read_text_file", args: { path: join(files, "notes.txt") } },
      { name: "mcp__fs__write_file", args: { path: target, content: "x" } }
    ])
    // The last call was refused: exec's exit says the work stopped at a permission (7).
    expect((await run(["exec", "--auto", "low", "-m", "Claude", "Read, write"], home, data)).code).toBe(7)
    const [read, write] = low.seen.at(-1)!
    expect(read!.output).toContain("the key is [REDACTED]")
    expect(write!.output).toContain("needs autonomy level high")
    expect(existsSync(target)).toBe(false)
    play("anthropic", [{ name: "mcp__fs__write_file", args: { path: target, content: "written" } }])
    expect((await run(["exec", "--auto", "high", "-m", "Claude", "Write"], home, data)).code).toBe(0)
    expect(readFileSync(target, "utf8")).toBe("written")
  }, 60_000)
})

describe("the tool-list cache", () => {
  test("the first run lists the server; a later one sends its request at once and starts no server it does not use", async () => {
    const mark = join(scratch("mark"), "mark")
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "plain"], env: { MARK: mark } } })
    const data = scratch("data")
    play("anthropic", [], "Hello.")
    const first = await run(["exec", "--auto", "low", "-m", "Claude", "Hi"], home, data)
    expect(first.code).toBe(0)
    expect(readFileSync(mark, "utf8")).toBe("started\n")
    expect(toolsOffered("anthropic")).toEqual(expect.arrayContaining(["mcp__odd__touch", "mcp__odd__erase", "mcp__odd__peek"]))
    expect(existsSync(join(data, "mcp-tools.json"))).toBe(true)
    const second = await run(["exec", "--auto", "low", "-m", "Claude", "Hi again"], home, data)
    expect(second.code).toBe(0)
    expect(toolsOffered("anthropic")).toContain("mcp__odd__touch")
    expect(readFileSync(mark, "utf8")).toBe("started\n")
    // Called: started then.
    play("anthropic", [{ name: "mcp__odd__peek", args: {} }])
    const third = await run(["exec", "--auto", "low", "-m", "Claude", "Peek"], home, data)
    expect(third.code).toBe(0)
    expect(readFileSync(mark, "utf8")).toBe("started\nstarted\n")
  }, 60_000)

  test("BYOK_NO_RECORD: nothing is written (no cache, no log); the server is listed each run", async () => {
    const mark = join(scratch("mark"), "mark")
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "plain"], env: { MARK: mark } } })
    const data = scratch("data")
    play("anthropic", [], "Hello.")
    for (let i = 0; i < 2; i++) {
      expect((await run(["exec", "--auto", "low", "-m", "Claude", "Hi"], home, data, { env: { BYOK_NO_RECORD: "1" } })).code).toBe(0)
    }
    expect(toolsOffered("anthropic")).toContain("mcp__odd__peek")
    expect(readFileSync(mark, "utf8")).toBe("started\nstarted\n")
    expect(existsSync(join(data, "mcp-tools.json"))).toBe(false)
    expect(existsSync(join(data, "mcp-logs"))).toBe(false)
  }, 60_000)

  test("disabled: the server is never started and offers nothing; disabledTools are not offered", async () => {
    const mark = join(scratch("mark"), "mark")
    const home = homeWith({
      off: { command: process.execPath, args: [ODD, "plain"], env: { MARK: mark }, disabled: true },
      odd: { command: process.execPath, args: [ODD, "plain"], disabledTools: ["erase"] }
    })
    play("anthropic", [], "Hello.")
    expect((await run(["exec", "--auto", "high", "-m", "Claude", "Hi"], home, scratch("data"))).code).toBe(0)
    const offered = toolsOffered("anthropic")
    expect(offered).toEqual(expect.arrayContaining(["mcp__odd__peek", "mcp__odd__touch"]))
    expect(offered).not.toContain("mcp__odd__erase")
    expect(offered.some((t) => t.startsWith("mcp__off__"))).toBe(false)
    expect(existsSync(mark)).toBe(false)
  }, 60_000)

  test("a changed configuration is listed again", async () => {
    const mark = join(scratch("mark"), "mark")
    const data = scratch("data")
    play("anthropic", [], "Hello.")
    await run(["exec", "--auto", "low", "-m", "Claude", "Hi"], homeWith({ odd: { command: process.execPath, args: [ODD, "plain"], env: { MARK: mark } } }), data)
    await run(["exec", "--auto", "low", "-m", "Claude", "Hi"], homeWith({ odd: { command: process.execPath, args: [ODD, "garbage"], env: { MARK: mark } } }), data)
    expect(readFileSync(mark, "utf8")).toBe("started\nstarted\n")
  }, 60_000)
})

describe("risk from annotations", () => {
  test("read-only runs at off; unannotated is medium; destructive is high: a call above the level is refused and the model told", async () => {
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "plain"] } })
    const data = scratch("data")
    const off = play("openai", [{ name: "mcp__odd__peek", args: {} }])
    expect((await run(["exec", "--auto", "off", "-m", "GPT", "Peek"], home, data)).code).toBe(0)
    expect(toolsOffered("openai")).toEqual(expect.arrayContaining(["mcp__odd__peek"]))
    expect(toolsOffered("openai")).not.toContain("mcp__odd__touch")
    expect(off.seen.at(-1)![0]!.output).toContain("peek ran")
    const low = play("openai", [{ name: "mcp__odd__touch", args: { what: "x" } }, { name: "mcp__odd__erase", args: {} }])
    const r = await run(["exec", "--auto", "medium", "-m", "GPT", "Touch, erase"], home, data)
    expect(low.seen.at(-1)!.map((x) => x.output)).toEqual([
      expect.stringContaining("touch ran"),
      expect.stringContaining("needs autonomy level high")
    ])
    expect(r.stderr).toContain("refused")
    const atLow = play("openai", [{ name: "mcp__odd__touch", args: {} }])
    await run(["exec", "--auto", "low", "-m", "GPT", "Touch"], home, data)
    expect(atLow.seen.at(-1)![0]!.output).toContain("needs autonomy level medium")
  }, 60_000)
})

describe("servers that fail", () => {
  test("one that crashes: the model gets a tool error, the user one line, and byok goes on", async () => {
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "crash"] } })
    const script = play("generic-chat-completion-api", [{ name: "mcp__odd__peek", args: {} }], "It failed.")
    const r = await run(["exec", "--auto", "low", "-m", "Chat", "Peek"], home, scratch("data"))
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("It failed.")
    expect(script.seen.at(-1)![0]!.output).toContain("exited (code 3)")
    expect(r.stderr.split("\n").filter((l) => l.includes('MCP server "odd"'))).toHaveLength(1)
  }, 60_000)

  test("one that hangs: the call times out (BYOK_MCP_TIMEOUT), and the server is told to stop", async () => {
    const mark = join(scratch("mark"), "mark")
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "hang"], env: { MARK: mark } } })
    const script = play("anthropic", [{ name: "mcp__odd__peek", args: {} }], "No answer.")
    const started = Date.now()
    const r = await run(["exec", "--auto", "low", "-m", "Claude", "Peek"], home, scratch("data"), { env: { BYOK_MCP_TIMEOUT: "1" } })
    expect(r.code).toBe(0)
    expect(Date.now() - started).toBeLessThan(8_000)
    expect(script.seen.at(-1)![0]!.output).toContain("no answer within 1 s")
    expect(r.stderr).toContain("BYOK_MCP_TIMEOUT")
    await waitFor(() => readFileSync(mark, "utf8").includes("cancelled"))
  }, 60_000)

  test("Ctrl-C during a call ends byok (130) and sends the server notifications/cancelled", async () => {
    const mark = join(scratch("mark"), "mark")
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "hang"], env: { MARK: mark } } })
    play("anthropic", [{ name: "mcp__odd__peek", args: {} }], "never")
    const data = scratch("data")
    // The list is cached first, so the only start is the call's.
    play("anthropic", [], "Hi.")
    await run(["exec", "--auto", "low", "-m", "Claude", "Hi"], home, data)
    play("anthropic", [{ name: "mcp__odd__peek", args: {} }], "never")
    const r = await run(["exec", "--auto", "low", "-m", "Claude", "Peek"], home, data, {
      signalAfter: () => waitFor(() => readFileSync(mark, "utf8").split("started").length === 3).then(() => Bun.sleep(300))
    })
    expect(r.code).toBe(130)
    expect(readFileSync(mark, "utf8")).toMatch(/cancelled \d+/)
  }, 60_000)

  test("one that prints garbage on stdout still works (the lines go to its log)", async () => {
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "garbage"] } })
    const data = scratch("data")
    const script = play("openai", [{ name: "mcp__odd__peek", args: {} }])
    const r = await run(["exec", "--auto", "low", "-m", "GPT", "Peek"], home, data)
    expect(r.code).toBe(0)
    expect(script.seen.at(-1)![0]!.output).toContain("peek ran")
    expect(readFileSync(join(data, "mcp-logs", "odd.log"), "utf8")).toContain("not JSON-RPC")
  }, 60_000)

  test("a server's stderr goes to its log (private) through the redactor", async () => {
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "plain"], env: { LEAK: "${MCP_TOKEN}" } } })
    const data = scratch("data")
    play("openai", [], "Hi.")
    expect((await run(["exec", "--auto", "low", "-m", "GPT", "Hi"], home, data)).code).toBe(0)
    const log = join(data, "mcp-logs", "odd.log")
    await waitFor(() => readFileSync(log, "utf8").includes("my token is"))
    expect(readFileSync(log, "utf8")).toContain("my token is [REDACTED]")
    expect(readFileSync(log, "utf8")).not.toContain(TOKEN)
    expect(Bun.spawnSync(["stat", "-c", "%a", log]).stdout.toString().trim()).toBe("600")
  }, 60_000)

  test("one that cannot start: said once, its tools not offered, and the answer still comes", async () => {
    const home = homeWith({ gone: { command: "/nonexistent/mcp-server" }, odd: { command: process.execPath, args: [ODD, "plain"] } })
    play("anthropic", [], "Hello.")
    const r = await run(["exec", "--auto", "low", "-m", "Claude", "Hi"], home, scratch("data"))
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("Hello.")
    expect(r.stderr).toContain('MCP server "gone": cannot start "/nonexistent/mcp-server": no such program')
    expect(toolsOffered("anthropic")).toContain("mcp__odd__peek")
    expect(toolsOffered("anthropic").some((t) => t.startsWith("mcp__gone__"))).toBe(false)
  }, 60_000)

  test("a server that speaks an older MCP revision is gone on with: one start, one initialize; an unknown one is said", async () => {
    const mark = join(scratch("mark"), "old.log")
    const home = homeWith({ old: { command: process.execPath, args: [ODD, "old"], env: { MARK: mark } }, ancient: { command: process.execPath, args: [ODD, "ancient"] } })
    const script = play("anthropic", [{ name: "mcp__old__peek", args: {} }])
    const r = await run(["exec", "--auto", "low", "-m", "Claude", "Peek"], home, scratch("data"))
    expect(r.code).toBe(0)
    expect(script.seen.at(-1)![0]!.output).toContain("peek ran")
    expect(readFileSync(mark, "utf8")).toBe("started\n")
    expect(r.stderr).toContain('MCP server "ancient"')
    expect(r.stderr).toContain("the server speaks MCP 2023-01-01, which byok does not")
  }, 60_000)

  test("over HTTP too: an older revision is initialized once, and its version goes in the header after", async () => {
    const seen: Array<{ method: string; version: string | null }> = []
    const fake = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        if (req.method !== "POST") return new Response(null, { status: 405 })
        const message = await req.json() as { id?: number; method: string }
        seen.push({ method: message.method, version: req.headers.get("mcp-protocol-version") })
        if (message.id === undefined) return new Response(null, { status: 202 })
        const result = message.method === "initialize"
          ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "fake", version: "1" } }
          : message.method === "tools/list"
          ? { tools: [{ name: "peek", description: "Looks.", inputSchema: { type: "object", properties: {} }, annotations: { readOnlyHint: true } }] }
          : { content: [{ type: "text", text: "peeked over http" }] }
        return Response.json({ jsonrpc: "2.0", id: message.id, result })
      }
    })
    try {
      const home = homeWith({ web: { type: "http", url: `http://127.0.0.1:${fake.port}/mcp` } })
      const script = play("anthropic", [{ name: "mcp__web__peek", args: {} }])
      const r = await run(["exec", "--auto", "low", "-m", "Claude", "Peek"], home, scratch("data"))
      expect(r.code).toBe(0)
      expect(script.seen.at(-1)![0]!.output).toContain("peeked over http")
      expect(seen.filter((m) => m.method === "initialize")).toHaveLength(1)
      expect(seen.filter((m) => m.method !== "initialize").map((m) => m.version)).toEqual(seen.slice(1).map(() => "2025-06-18"))
    } finally {
      fake.stop(true)
    }
  }, 60_000)

  test("a 401 with a Bearer challenge, no login yet and no browser: says to run byok mcp login; no token check advice", async () => {
    const fake = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response("unauthorized", {
        status: 401,
        headers: { "www-authenticate": 'Bearer resource_metadata="http://127.0.0.1:9/.well-known/oauth-protected-resource", scope="read"' }
      })
    })
    try {
      const home = homeWith({ locked: { type: "http", url: `http://127.0.0.1:${fake.port}/mcp` } })
      const r = await run(["mcp", "get", "locked"], home, scratch("data"))
      expect(r.code).toBe(1)
      const said = r.stdout + r.stderr
      expect(said).toContain("the server asks for an OAuth login: run byok mcp login locked")
      expect(said).toContain("fix: run byok mcp login locked (it opens your browser")
      expect(said).toContain('"Authorization": "Bearer ${TOKEN}"')
      expect(said).not.toContain("check the token")
    } finally {
      fake.stop(true)
    }
  }, 60_000)

  test("a server's error text that echoes a secret of its entry (a header's token) is shown with the secret hidden", async () => {
    const fake = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) =>
        Response.json({ jsonrpc: "2.0", id: null, error: { code: -32000, message: `refused ${req.headers.get("authorization")}` } }, { status: 500 })
    })
    try {
      const home = homeWith({ echo: { type: "http", url: `http://127.0.0.1:${fake.port}/mcp`, headers: { Authorization: "Bearer ${MCP_TOKEN}" } } })
      const data = scratch("data")
      const r = await run(["mcp", "get", "echo"], home, data)
      expect(r.code).toBe(1)
      expect(r.stdout + r.stderr).toContain("status: failed: MCP HTTP status 500: refused ")
      expect(r.stdout + r.stderr).not.toContain(TOKEN)
      play("generic-chat-completion-api", [{ name: "mcp__echo__x", args: {} }], "Done.")
      const e = await run(["exec", "-m", "Chat", "--auto", "high", "hi"], home, data)
      expect(e.stdout + e.stderr).not.toContain(TOKEN)
    } finally {
      fake.stop(true)
    }
  }, 60_000)

  test("notifications/tools/list_changed: the next request offers the new list", async () => {
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "changing"] } })
    play("anthropic", [{ name: "mcp__odd__peek", args: {} }, { name: "mcp__odd__fresh", args: {} }])
    const r = await run(["exec", "--auto", "low", "-m", "Claude", "Go"], home, scratch("data"))
    expect(r.code).toBe(0)
    const offered = server.requests.slice(-3).map((q) => ((q.body as { tools: Array<{ name: string }> }).tools).map((t) => t.name))
    expect(offered[0]).not.toContain("mcp__odd__fresh")
    expect(offered[1]).toContain("mcp__odd__fresh")
  }, 60_000)
})

describe("project servers and trust", () => {
  const project = (servers: Record<string, unknown>) => {
    const dir = scratch("project")
    mkdirSync(join(dir, ".git"))
    mkdirSync(join(dir, ".factory"))
    writeFileSync(join(dir, ".factory", "mcp.json"), JSON.stringify({ mcpServers: servers }))
    return dir
  }

  test("a project's .factory/mcp.json is ignored (and said) until trusted, and used after", async () => {
    const mark = join(scratch("mark"), "mark")
    const dir = project({ proj: { command: process.execPath, args: [ODD, "plain"], env: { MARK: mark } } })
    const home = homeWith({})
    const data = scratch("data")
    play("anthropic", [], "Hello.")
    const before = await run(["exec", "--auto", "low", "-m", "Claude", "Hi"], home, data, { cwd: dir })
    expect(before.code).toBe(0)
    expect(before.stderr).toContain(".factory/mcp.json")
    expect(before.stderr).toContain(`byok trust ${dir}`)
    expect(toolsOffered("anthropic").some((t) => t.startsWith("mcp__"))).toBe(false)
    expect(existsSync(mark)).toBe(false)
    expect((await run(["trust", dir], home, data, { cwd: dir })).stdout).toContain(".factory/mcp.json")
    const after = await run(["exec", "--auto", "low", "-m", "Claude", "Hi"], home, data, { cwd: dir })
    expect(after.code).toBe(0)
    expect(toolsOffered("anthropic")).toContain("mcp__proj__peek")
    expect(readFileSync(mark, "utf8")).toBe("started\n")
  }, 60_000)

  test("a trusted project's server gets no ${VAR} expanded, and cannot replace the user's server of the same name", async () => {
    const dir = project({
      every: { command: "/bin/false" },
      leak: { command: EVERYTHING, env: { TOKEN: "${MCP_TOKEN}" } }
    })
    const home = homeWith({ every: { command: EVERYTHING } })
    const data = scratch("data")
    await run(["trust", dir], home, data, { cwd: dir })
    const script = play("openai", [{ name: "mcp__leak__get-env", args: {} }, { name: "mcp__every__echo", args: { message: "mine" } }])
    const r = await run(["exec", "--auto", "low", "-m", "GPT", "Env"], home, data, { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain("is not expanded in a project's mcp.json")
    expect(r.stderr).toContain("mcpServers.every is ignored: ~/.factory/mcp.json defines a server of that name")
    const [env, echo] = script.seen.at(-1)!
    expect(env!.output).toContain("${MCP_TOKEN}")
    expect(env!.output).not.toContain("[REDACTED]")
    expect(echo!.output).toContain("Echo: mine")
  }, 60_000)
})

describe("byok mcp, /mcp and the doctor", () => {
  test("add, list, get and remove; the file stays private; bad input is a usage error", async () => {
    const home = homeWith({})
    rmSync(join(home, ".factory", "mcp.json"))
    const data = scratch("data")
    const add = await run(["mcp", "add", "every", "--", EVERYTHING], home, data)
    expect(add.code).toBe(0)
    expect(add.stdout).toContain(`Added "every" (stdio)`)
    expect((await run(["mcp", "add", "web", "http://127.0.0.1:9/mcp", "--type", "http", "--header", "Authorization: Bearer ${MCP_TOKEN}"], home, data)).code).toBe(0)
    const file = join(home, ".factory", "mcp.json")
    expect(Bun.spawnSync(["stat", "-c", "%a", file]).stdout.toString().trim()).toBe("600")
    expect(JSON.parse(readFileSync(file, "utf8")).mcpServers.web).toEqual({ type: "http", url: "http://127.0.0.1:9/mcp", headers: { Authorization: "Bearer ${MCP_TOKEN}" } })
    // droid's form: the command as one quoted word.
    expect((await run(["mcp", "add", "quoted", "npx -y '@scope/server x' --flag"], home, data)).code).toBe(0)
    expect(JSON.parse(readFileSync(file, "utf8")).mcpServers.quoted).toEqual({ type: "stdio", command: "npx", args: ["-y", "@scope/server x", "--flag"] })
    expect((await run(["mcp", "remove", "quoted"], home, data)).code).toBe(0)
    const list = await run(["mcp", "list"], home, data)
    expect(list.stdout).toContain("every  stdio  not started yet")
    expect(list.stdout).toContain("web  http")
    const get = await run(["mcp", "get", "every"], home, data)
    expect(get.code).toBe(0)
    expect(get.stdout).toContain("mcp__every__echo  read")
    expect((await run(["mcp"], home, data)).stdout).toContain("every  stdio  not started (tools cached")
    const unreachable = await run(["mcp", "get", "web"], home, data)
    expect(unreachable.code).toBe(1)
    expect(unreachable.stdout).toContain("ECONNREFUSED")
    expect(unreachable.stdout).toContain("fix: check that http://127.0.0.1:9/mcp is reachable")
    expect((await run(["mcp", "remove", "web"], home, data)).stdout).toContain(`Removed "web"`)
    expect((await run(["mcp", "remove", "web"], home, data)).code).toBe(2)
    expect((await run(["mcp", "get", "nope"], home, data)).code).toBe(2)
    expect((await run(["mcp", "add", "bad name", "x"], home, data)).code).toBe(2)
    expect((await run(["mcp", "add", "x", "http://h/mcp", "--env", "A=1"], home, data)).code).toBe(2)
    expect((await run(["mcp", "add", "x", "--type", "ws", "cmd"], home, data)).code).toBe(2)
    expect(JSON.parse(readFileSync(file, "utf8")).mcpServers).toEqual({ every: { type: "stdio", command: EVERYTHING, args: [] } })
  }, 60_000)

  test("a broken mcp.json names its line, and byok goes on without its servers", async () => {
    const home = homeWith({})
    writeFileSync(join(home, ".factory", "mcp.json"), '{\n  "mcpServers": {\n    "x": { "command": "a", }\n  }\n}\n')
    play("anthropic", [], "Hello.")
    const r = await run(["exec", "--auto", "low", "-m", "Claude", "Hi"], home, scratch("data"))
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/mcp\.json:3:\d+: .*its MCP servers are ignored/)
    writeFileSync(join(home, ".factory", "mcp.json"), JSON.stringify({ mcpServers: { a: { type: "ws", url: "x" }, b: { type: "http" } } }))
    const bad = await run(["mcp", "list"], home, scratch("data"))
    expect(bad.stderr).toContain('mcpServers.a.type: must be "stdio", "http" or "sse", found "ws"')
    expect(bad.stderr).toContain("mcpServers.b.url: an http server needs an http:// or https:// address")
  }, 60_000)

  test("/mcp in the chat lists the servers and one server's tools", async () => {
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "plain"] } })
    const { stdout, code } = await chatPiped(["-m", "Claude"], home, "/mcp\n/mcp odd\n")
    expect(code).toBe(0)
    expect(stdout).toContain("odd  stdio  not started yet  ·  tools not listed")
    expect(stdout).toContain("odd (stdio, from")
    expect(stdout).toContain("mcp__odd__erase  high")
    expect(stdout).toContain("mcp__odd__touch  medium")
    expect(stdout).toContain("mcp__odd__peek  read")
    const bare = homeWithModels(oneModelPerFormat(server.url))
    expect((await chatPiped(["-m", "Claude"], bare, "/mcp\n")).stdout).toContain("There is no mcp.json")
  }, 60_000)

  test("the chat's model calls a server's tools (--auto low): the call shown, its result sent back", async () => {
    const home = homeWith({ every: { command: EVERYTHING } })
    const script = play("generic-chat-completion-api", [{ name: "mcp__every__get-sum", args: { a: 20, b: 22 } }], "It is 42.")
    const { stdout, stderr, code } = await chatPiped(["-m", "Chat", "--auto", "low"], home, "What is 20 + 22?\n")
    expect(code).toBe(0)
    expect(stdout).toContain("It is 42.")
    expect(stderr).toContain("mcp__every__get-sum")
    expect(script.seen.at(-1)![0]!.output).toContain("42")
  }, 60_000)

  test("in the chat, Ctrl-C while a server starts stops it: nothing is sent, and the chat goes on", async () => {
    const home = homeWith({ mute: { command: process.execPath, args: [ODD, "mute"] } })
    play("anthropic", [], "Hello.")
    const before = server.requests.length
    const pane = startPane([bin, "-m", "Claude", "--auto", "low"], { HOME: home, BYOK_HOME: scratch("data"), NO_COLOR: "1" })
    try {
      await pane.waitFor("/help for commands")
      pane.line("Hi")
      await Bun.sleep(700)
      pane.keys("C-c")
      await pane.waitFor("stopped while MCP servers started")
      expect(server.requests.length).toBe(before)
      pane.line("/mcp")
      await pane.waitFor("mute  stdio  not started yet")
    } finally {
      pane.stop()
    }
  }, 60_000)

  test("resources and prompts: byok mcp get lists them; exec --resource SERVER:URI puts one before the prompt", async () => {
    const home = homeWith({ every: { command: EVERYTHING } })
    const data = scratch("data")
    const got = await run(["mcp", "get", "every"], home, data)
    expect(got.code).toBe(0)
    expect(got.stdout).toContain("resource every:demo://resource/static/document/features.md  features.md")
    expect(got.stdout).toMatch(/prompt simple-prompt\s+A prompt with no arguments/)

    play("generic-chat-completion-api", [], "Read.")
    const r = await run(["exec", "-m", "Chat", "--resource", "every:demo://resource/static/document/features.md", "Summarise it."], home, data)
    expect(r.code).toBe(0)
    const sent = JSON.stringify(server.requests.at(-1)!.body)
    expect(sent).toContain('The resource demo://resource/static/document/features.md of the MCP server \\"every\\":')
    expect(sent).toContain("Summarise it.")
    // (the document's own words, read from the server)
    expect(sent.length).toBeGreaterThan(800)

    const bad = await run(["exec", "-m", "Chat", "--resource", "nope:x://y", "Hi"], home, data)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('no MCP server is named "nope"')
    const shape = await run(["exec", "-m", "Chat", "--resource", "every", "Hi"], home, data)
    expect(shape.code).toBe(2)
    expect(shape.stderr).toContain("--resource takes SERVER:URI")
  }, 60_000)

  test("in the chat a server's prompts are commands (in /help), and @SERVER:URI attaches a resource", async () => {
    const home = homeWith({ every: { command: EVERYTHING } })
    const data = scratch("data")
    // Listed once (byok mcp get): the chat knows its prompts from the cache, and starts the server when one is used.
    expect((await run(["mcp", "get", "every"], home, data)).code).toBe(0)
    play("generic-chat-completion-api", [], "Fine.")
    const before = server.requests.length
    const r = await chatPiped(["-m", "Chat"], home, [
      "/help",
      "/mcp__every__args-prompt",
      "/mcp__every__args-prompt Paris",
      "@every:demo://resource/static/document/features.md what is this?",
      "@every:demo://nope/x and this?"
    ].join("\n") + "\n", data)
    expect(r.code).toBe(0)
    const said = r.stdout + r.stderr
    expect(said).toContain("MCP prompts (their text becomes your message):")
    expect(said).toMatch(/\/mcp__every__args-prompt CITY \[STATE\]/)
    expect(said).toContain("/mcp__every__args-prompt needs city")
    expect(said).toContain("[attached every:demo://resource/static/document/features.md,")
    expect(said).toContain("@every:demo://nope/x:")
    // Two messages went: the prompt's text, and the resource before the question; the failed one sent nothing.
    const sent = server.requests.slice(before).map((q) => JSON.stringify(q.body))
    expect(sent.length).toBe(2)
    expect(sent[0]).toContain("Paris")
    expect(sent[1]).toContain('The resource demo://resource/static/document/features.md of the MCP server \\"every\\":')
    expect(sent[1]).toContain("what is this?")
  }, 60_000)

  test("the doctor starts each server and lists its tools, or gives the fix (exit 1)", async () => {
    const home = homeWith({ odd: { command: process.execPath, args: [ODD, "plain"] }, gone: { command: "/nonexistent/mcp" }, off: { command: "x", disabled: true } })
    server.handle(() => new Response("no", { status: 500 }))
    const r = await run(["doctor", "--timeout", "1"], home, scratch("data"))
    expect(r.stdout).toContain("MCP servers")
    expect(r.stdout).toMatch(/✓ odd\s+stdio, 3 tools \(1 read-only\): touch, erase, peek/)
    expect(r.stdout).toMatch(/✗ gone\s+cannot start "\/nonexistent\/mcp": no such program/)
    expect(r.stdout).toContain('fix: install "/nonexistent/mcp", or correct "command" of "gone"')
    expect(r.stdout).toMatch(/- off\s+disabled in/)
  }, 60_000)
})
