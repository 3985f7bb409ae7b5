// The agent loop from the compiled binary: exec --auto with a scripted model in each wire format, in a scratch git
// repository; refusals the model is told of; the canary key through every tool; --max-turns and repeated calls.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Database } from "bun:sqlite"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { answer, FORMATS, type Format, pathOf } from "./lib/faults.ts"
import { sse } from "./lib/http.ts"
import { homeWithModels } from "./lib/home.ts"
import { CANARY } from "./lib/provider.ts"
import { scripted, type Step } from "./lib/scripted.ts"
import { type FakeServer, startServer } from "./lib/server.ts"
import { startPane } from "./lib/tmux.ts"

let bin: string
let server: FakeServer
let home: string
const NAMES: Record<Format, string> = { "generic-chat-completion-api": "Chat", anthropic: "Claude", openai: "GPT" }

beforeAll(() => {
  bin = byokBinary()
  server = startServer()
  home = homeWithModels(FORMATS.map((f) => ({
    displayName: NAMES[f],
    model: f === "anthropic" ? "claude-sonnet-4-5" : "gpt-5.1",
    baseUrl: f === "anthropic" ? server.url : `${server.url}/v1`,
    apiKey: CANARY,
    provider: f,
    maxOutputTokens: 256
  })))
}, 60_000)

afterAll(() => server?.stop())

/** A scratch git repository with a README. */
const repo = () => {
  const dir = mkdtempSync(join(tmpdir(), "byok-agent-repo-"))
  Bun.spawnSync(["git", "init", "-q"], { cwd: dir })
  writeFileSync(join(dir, "README.md"), "# Demo\nThe answer is 41.\n")
  Bun.spawnSync(["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qam", "start", "--allow-empty"], { cwd: dir })
  Bun.spawnSync(["git", "add", "README.md"], { cwd: dir })
  Bun.spawnSync(["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "readme"], { cwd: dir })
  return dir
}

const run = async (args: ReadonlyArray<string>, cwd: string, data = mkdtempSync(join(tmpdir(), "byok-agent-data-"))) => {
  const proc = Bun.spawn([bin, ...args], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1", HOME: home, BYOK_HOME: data, BYOK_MAX_RETRIES: "0" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(stdout + stderr).not.toContain(CANARY)
  return { stdout, stderr, code, data }
}

describe("exec --auto low: a change made through a scripted model", () => {
  for (const format of FORMATS) {
    test(`${NAMES[format]} (${format}): Read, Edit, Execute, then the answer; each result given back in the format's shape`, async () => {
      const dir = repo()
      const steps: Array<Step> = [
        { name: "Read", args: { file_path: "README.md" } },
        { name: "Edit", args: { file_path: "README.md", old_str: "41", new_str: "42" } },
        { name: "Execute", args: { command: "git diff --stat" } }
      ]
      const script = scripted(format, steps, "Fixed the answer in README.md.")
      server.handle((req) => (req.path === pathOf(format) ? script.handler(req) : new Response("no", { status: 404 })))
      const r = await run(["exec", "-m", NAMES[format], "--auto", "low", "Fix the answer in the README"], dir)
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("Fixed the answer in README.md.\n")
      expect(readFileSync(join(dir, "README.md"), "utf8")).toBe("# Demo\nThe answer is 42.\n")
      // What the model got back, step by step.
      expect(script.seen.map((s) => s.length)).toEqual([0, 1, 2, 3])
      expect(script.seen[1]![0]!.output).toContain("2\tThe answer is 41.")
      expect(script.seen[2]![1]!.output).toContain("Edited README.md")
      expect(script.seen[3]![2]!.output).toMatch(/README\.md \| 2 [+-]+[\s\S]*\[exit code 0\]/)
      // The screen: one line per call, on stderr.
      expect(r.stderr).toMatch(/→ Read README\.md · 2 lines/)
      expect(r.stderr).toMatch(/→ Edit README\.md · 1 replacement/)
      expect(r.stderr).toContain("-The answer is 41.")
      expect(r.stderr).toMatch(/→ Execute git diff --stat · exit 0/)
      // Every request a ledger row of the one conversation.
      const rows = new Database(join(r.data, "ledger.db"), { readonly: true }).query("SELECT DISTINCT conversation_id AS c, COUNT(*) AS n FROM requests").all()
      expect(rows).toEqual([{ c: expect.any(String), n: 4 }])
    })
  }

  test("-o json: the final answer, every request, the calls and the summed usage", async () => {
    const dir = repo()
    const script = scripted("anthropic", [{ name: "LS", args: {} }, { name: "Read", args: { file_path: "README.md" } }], "Two files looked at.")
    server.handle((req) => script.handler(req))
    const r = await run(["exec", "-m", "Claude", "--auto", "off", "-o", "json", "Look around"], dir)
    const json = JSON.parse(r.stdout)
    expect(json).toMatchObject({ type: "result", is_error: false, result: "Two files looked at.", num_requests: 3, exit_code: 0 })
    expect(json.tool_calls.map((c: { name: string }) => c.name)).toEqual(["LS", "Read"])
    expect(json.usage.input_tokens).toBe(20 + 20 + 7)
  })
})

describe("what the level forbids", () => {
  test("a call above the level is refused at once, the model is told why, the user sees it; exit 7 when the model gives up", async () => {
    const dir = repo()
    const script = scripted("generic-chat-completion-api", [{ name: "Execute", args: { command: "rm -rf build" } }], "I cannot delete it at this level.")
    server.handle((req) => script.handler(req))
    const r = await run(["exec", "-m", "Chat", "--auto", "low", "Clean up"], dir)
    expect(script.seen[1]![0]!.output).toContain("Not run: this needs autonomy level high")
    expect(r.stderr).toMatch(/✗ Execute rm -rf build · refused: needs high \(level low\)/)
    expect(r.code).toBe(7)
    expect(r.stderr).toContain("a higher --auto level allows it")
  })

  test("writes outside the working directory, by a path, .. or a link, are refused below high", async () => {
    const dir = repo()
    const outside = mkdtempSync(join(tmpdir(), "byok-agent-outside-"))
    Bun.spawnSync(["ln", "-s", outside, join(dir, "link")])
    const script = scripted("openai", [
      { name: "Create", args: { file_path: join(outside, "a.txt"), content: "x" } },
      { name: "Create", args: { file_path: "../escape.txt", content: "x" } },
      { name: "Create", args: { file_path: "link/b.txt", content: "x" } }
    ], "Could not.")
    server.handle((req) => script.handler(req))
    await run(["exec", "-m", "GPT", "--auto", "medium", "Write files"], dir)
    for (const result of script.seen[3]!) expect(result.output).toMatch(/Not run|outside the working directory/)
    expect(Bun.spawnSync(["ls", outside]).stdout.toString()).toBe("")
  })

  test("into a pipe, what the model says before its calls comes before them on stderr, in order", async () => {
    const dir = repo()
    let step = 0
    server.handle(() => {
      step++
      const body = step <= 2
        ? sse(
          { model: "m", choices: [{ index: 0, delta: { content: `Thinking about step ${step}.` }, finish_reason: null }] },
          { model: "m", choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: `c${step}`, type: "function", function: { name: "LS", arguments: JSON.stringify({ path: step === 1 ? "." : "./" }) } }] }, finish_reason: null }] },
          { model: "m", choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
          "[DONE]"
        )
        : answer("generic-chat-completion-api", ["All done."])
      return new Response(body, { headers: { "content-type": "text/event-stream" } })
    })
    const r = await run(["exec", "-m", "Chat", "--auto", "off", "Look"], dir)
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("All done.\n")
    const lines = r.stderr.split("\n")
    const at = (text: string) => lines.findIndex((l) => l.includes(text))
    const calls = lines.map((l, i) => (l.includes("LS") ? i : -1)).filter((i) => i >= 0)
    expect(calls).toHaveLength(2)
    expect(at("Thinking about step 1.")).toBeLessThan(calls[0]!)
    expect(at("Thinking about step 2.")).toBeGreaterThan(calls[0]!)
    expect(at("Thinking about step 2.")).toBeLessThan(calls[1]!)
  })
  test("without --auto (or autonomyMode), exec offers no tools", async () => {
    const dir = repo()
    server.handle(() => new Response(answer("openai", ["plain"]), { headers: { "content-type": "text/event-stream" } }))
    await run(["exec", "-m", "GPT", "hi"], dir)
    expect(server.requests.at(-1)!.body).not.toHaveProperty("tools")
  })
})

describe("the key never reaches a model through a tool", () => {
  test("Read of the config, Grep for it, Execute env and cat: the canary is hidden in every result", async () => {
    const dir = repo()
    writeFileSync(join(dir, ".env"), `OPENAI_API_KEY=${CANARY}\n`)
    const script = scripted("anthropic", [
      { name: "Read", args: { file_path: join(home, ".factory", "settings.json") } },
      { name: "Grep", args: { pattern: "API_KEY" } },
      { name: "Execute", args: { command: "cat .env" } },
      { name: "Execute", args: { command: `echo ${CANARY.slice(0, 6)}$(printf %s '${CANARY.slice(6)}')` } }
    ], "Done.")
    server.handle((req) => script.handler(req))
    await run(["exec", "-m", "Claude", "--auto", "high", "Find the keys"], dir)
    for (const req of server.requests.slice(-5)) expect(JSON.stringify(req.body)).not.toContain(CANARY)
    expect(script.seen[4]!.map((r) => r.output).join("\n")).toContain("[REDACTED]")
  })
  test("and through the others: a file named for it (LS, Glob), an edit that writes it (Create, Edit, ApplyPatch)", async () => {
    const dir = repo()
    writeFileSync(join(dir, `${CANARY}.txt`), "x\n")
    const script = scripted("openai", [
      { name: "LS", args: {} },
      { name: "Glob", args: { patterns: ["*.txt"] } },
      { name: "Create", args: { file_path: "k.txt", content: CANARY } },
      { name: "Edit", args: { file_path: "k.txt", old_str: CANARY, new_str: `${CANARY}!` } },
      { name: "ApplyPatch", args: { patch: `*** Begin Patch\n*** Add File: p.txt\n+${CANARY}\n*** End Patch` } },
      { name: "Read", args: { file_path: "p.txt" } }
    ], "Done.")
    server.handle((req) => script.handler(req))
    const r = await run(["exec", "-m", "GPT", "--auto", "low", "Look"], dir)
    expect(r.code).toBe(0)
    for (const req of server.requests.slice(-7)) expect(JSON.stringify(req.body)).not.toContain(CANARY)
    expect(script.seen[1]![0]!.output).toContain("[REDACTED].txt")
  })
})

describe("a tool the user stops", () => {
  test("SIGINT during Execute: exit 130; exec -c tells the model the command was started and stopped, with its output so far", async () => {
    const dir = repo()
    const data = mkdtempSync(join(tmpdir(), "byok-agent-data-"))
    const script = scripted("anthropic", [
      { name: "Execute", args: { command: "echo started-work; sleep 30" } },
      { name: "LS", args: {} }
    ], "Done.")
    server.handle((req) => script.handler(req))
    const proc = Bun.spawn([bin, "exec", "-m", "Claude", "--auto", "high", "Work"], {
      cwd: dir,
      env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1", HOME: home, BYOK_HOME: data, BYOK_MAX_RETRIES: "0" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe"
    })
    // Stopped once the command has printed (it is running its sleep).
    for (let i = 0; i < 100 && Bun.spawnSync(["pgrep", "-f", "sleep 30"]).exitCode !== 0; i++) await Bun.sleep(50)
    await Bun.sleep(200)
    proc.kill("SIGINT")
    expect(await proc.exited).toBe(130)
    const before = server.requests.length
    const next = scripted("anthropic", [], "I see it was stopped.")
    server.handle((req) => next.handler(req))
    const r = await run(["exec", "-m", "Claude", "-c", "--auto", "high", "What happened?"], dir, data)
    expect(r.code).toBe(0)
    expect(server.requests.length).toBe(before + 1)
    const results = next.seen[0]!
    expect(results).toHaveLength(1)
    expect(results[0]!.output).toContain("The user stopped this call (Ctrl-C) while it ran")
    expect(results[0]!.output).toContain("started-work")
    expect(results[0]!.output).not.toContain("was not run")
    expect(results[0]!.isError).toBe(true)
    // and the chat, resumed, draws the calls as it does live: the stopped one said to be stopped
    const chat = Bun.spawn([bin, "-c", "-m", "Claude"], {
      cwd: dir,
      env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1", HOME: home, BYOK_HOME: data, BYOK_MAX_RETRIES: "0" },
      stdin: new Blob(["/exit\n"]),
      stdout: "pipe",
      stderr: "pipe"
    })
    const [, replay] = await Promise.all([chat.exited, new Response(chat.stderr).text()])
    expect(replay).toContain("› Work")
    expect(replay).toContain("! Execute echo started-work; sleep 30 · stopped")
    expect(replay).toContain("› What happened?")
    expect(replay).toContain("I see it was stopped.")
    expect(replay.indexOf("› Work")).toBeLessThan(replay.indexOf("· stopped"))
  })
})

describe("loops that do not end", () => {
  test("--max-turns stops the loop, said as such", async () => {
    const dir = repo()
    const script = scripted("generic-chat-completion-api", Array.from({ length: 10 }, (_, i) => ({ name: "Read", args: { file_path: "README.md", offset: i + 1 } })), "never")
    server.handle((req) => script.handler(req))
    const r = await run(["exec", "-m", "Chat", "--auto", "off", "--max-turns", "3", "Read forever"], dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("still calling tools after 3 requests (--max-turns 3)")
  })
  test("-o json and stream-json tell --max-turns as a failure, with the calls that were not run", async () => {
    const dir = repo()
    for (const format of ["json", "stream-json"]) {
      const script = scripted("generic-chat-completion-api", Array.from({ length: 10 }, (_, i) => ({ name: "Read", args: { file_path: "README.md", offset: i + 1 } })), "never")
      server.handle((req) => script.handler(req))
      const r = await run(["exec", "-m", "Chat", "--auto", "off", "--max-turns", "2", "-o", format, "Read forever"], dir)
      expect(r.code).toBe(1)
      const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!)
      expect(result).toMatchObject({ type: "result", is_error: true, subtype: "error_max_turns", exit_code: 1 })
      expect(result.tool_calls.filter((c: { run?: boolean }) => c.run === false)).toHaveLength(1)
      expect(result.tool_calls).toHaveLength(2)
    }
  })
  test("a refused call the model gives up at: exit 7, a failure in JSON; a denylisted one is said to be denied, not a level away", async () => {
    const dir = repo()
    writeFileSync(join(home, ".factory", "settings.local.json"), JSON.stringify({ commandDenylist: ["git push"] }))
    try {
      const script = scripted("anthropic", [{ name: "Execute", args: { command: "git -C . push" } }], "I cannot push.")
      server.handle((req) => script.handler(req))
      const text = await run(["exec", "-m", "Claude", "--auto", "high", "Push it"], dir)
      expect(text.code).toBe(7)
      expect(text.stderr).toContain("denied by commandDenylist); no level allows it")
      expect(text.stderr).not.toContain("higher --auto level")
      expect(script.seen[1]![0]!.output).toContain("the user's commandDenylist forbids it")
      const script2 = scripted("anthropic", [{ name: "Execute", args: { command: "touch x.txt" } }], "I cannot write.")
      server.handle((req) => script2.handler(req))
      const json = await run(["exec", "-m", "Claude", "--auto", "off", "-o", "json", "Write"], dir)
      expect(json.code).toBe(7)
      expect(JSON.parse(json.stdout)).toMatchObject({ is_error: true, subtype: "error_permission", exit_code: 7 })
    } finally {
      rmSync(join(home, ".factory", "settings.local.json"))
    }
  })
  test("--max-turns without --auto is a usage error, and nothing is sent", async () => {
    const before = server.requests.length
    const r = await run(["exec", "-m", "Chat", "--max-turns", "3", "hi"], repo())
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("--max-turns limits the agent loop")
    expect(server.requests.length).toBe(before)
  })
  test("the same call three times in a row: told on the second repeat, stopped on the third", async () => {
    const dir = repo()
    const same = { name: "LS", args: {} }
    const script = scripted("openai", [same, same, same, same], "never")
    server.handle((req) => script.handler(req))
    const r = await run(["exec", "-m", "GPT", "--auto", "off", "List"], dir)
    expect(r.code).toBe(1)
    expect(script.seen[2]!.at(-1)!.output).toContain("a third time stops the work")
    expect(r.stderr).toContain("called LS with the same arguments 3 times in a row")
  })
})

describe("the model's context", () => {
  test("byok's system prompt, then AGENTS.md from droid's, the repository root and the working directory, then --system", async () => {
    const dir = repo()
    const sub = join(dir, "pkg")
    Bun.spawnSync(["mkdir", "-p", sub])
    writeFileSync(join(dir, "AGENTS.md"), "Root rule: use tabs.\n")
    writeFileSync(join(sub, "AGENTS.md"), "Package rule: run bun test.\n")
    Bun.spawnSync(["mkdir", "-p", join(home, ".factory")])
    writeFileSync(join(home, ".factory", "AGENTS.md"), "Personal rule: be brief.\n")
    const script = scripted("anthropic", [], "ok")
    server.handle((req) => script.handler(req))
    await run(["exec", "-m", "Claude", "--auto", "off", "--system", "User text.", "hi"], sub)
    const system = JSON.stringify((server.requests.at(-1)!.body as { system: unknown }).system)
    const order = ["Working directory: " + sub.replace(/\\/g, "\\\\"), "Personal rule", "Root rule", "Package rule", "User text."].map((s) => system.indexOf(s))
    expect(order.every((i) => i >= 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(system).toContain("a git repository")
    Bun.spawnSync(["rm", join(home, ".factory", "AGENTS.md")])
  })
})

describe("the chat acts too", () => {
  /** The chat in a real terminal, in `dir`, at a level. */
  const chatIn = (dir: string, level: string) =>
    startPane(["sh", "-c", `cd '${dir}' && exec '${bin}' -m Chat --auto ${level}`], {
      HOME: home, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-agent-data-")), BYOK_MAX_RETRIES: "0", NO_COLOR: "1"
    })
  test("at level low a medium-risk call asks: no is told to the model; yes runs it", async () => {
    const dir = repo()
    writeFileSync(join(dir, "notes.tmp"), "x")
    const script = scripted("generic-chat-completion-api", [{ name: "Execute", args: { command: "rm notes.tmp" } }], "Done.")
    server.handle((req) => script.handler(req))
    const pane = chatIn(dir, "low")
    try {
      await pane.waitFor("/help for commands")
      pane.line("clean up")
      await pane.waitFor("Run it? yes, no, always this session:")
      pane.text("n")
      await pane.waitFor("Done.")
      expect(script.seen[1]![0]!.output).toContain("the user declined")
      expect(Bun.file(join(dir, "notes.tmp")).size).toBe(1)
      pane.line("/clear")
      pane.line("clean up again")
      await pane.waitFor(/Run it\? yes, no, always this session: no[\s\S]*Run it\? yes, no, always this session:/)
      pane.text("y")
      const screen = await pane.waitFor(/→ Execute rm notes\.tmp · exit 0/)
      expect(screen).toContain("needs level medium")
      expect(existsSync(join(dir, "notes.tmp"))).toBe(false)
    } finally {
      pane.stop()
    }
  }, 20_000)

  test("a running command shows its line with its time; Ctrl-C stops it, says which, leaves no process, and the model hears it", async () => {
    const dir = repo()
    const marker = `${31 + (process.pid % 50)}.5`
    const script = scripted("generic-chat-completion-api", [{ name: "Execute", args: { command: `sleep ${marker}` } }], "never")
    server.handle((req) => script.handler(req))
    const pane = chatIn(dir, "off")
    try {
      await pane.waitFor("/help for commands")
      pane.line("wait")
      for (let i = 0; i < 50; i++) {
        if (Bun.spawnSync(["pgrep", "-f", `sleep ${marker}`]).exitCode === 0) break
        await Bun.sleep(100)
      }
      expect(Bun.spawnSync(["pgrep", "-f", `sleep ${marker}`]).exitCode).toBe(0)
      // the running call's line, with the seconds it has run
      await pane.waitFor(new RegExp(`Execute sleep ${marker.replace(".", "\\.")} · [1-9]\\d*s`))
      pane.keys("C-c")
      await pane.waitFor(`[stopped Execute sleep ${marker}:`)
      await Bun.sleep(700)
      expect(Bun.spawnSync(["pgrep", "-f", `sleep ${marker}`]).exitCode).toBe(1)
      // the next message tells the model the command was stopped
      pane.line("what happened?")
      await pane.waitFor(/what happened\?\s*never/)
      expect(script.seen.at(-1)![0]!.output).toContain("The user stopped this call (Ctrl-C) while it ran")
    } finally {
      pane.stop()
    }
  }, 20_000)
})

describe("local models", () => {
  test("the loop against the Ollama fake: a call sent whole, finished as \"stop\", run, and answered after its result", async () => {
    const { startLocalServer } = await import("./lib/local-servers.ts")
    const ollama = startLocalServer("ollama", { models: ["qwen3:4b"], context: 8192, loaded: true })
    try {
      const dir = repo()
      const localHome = homeWithModels([{ displayName: "Qwen", model: "qwen3:4b", baseUrl: `${ollama.url}/v1`, apiKey: "ollama", provider: "generic-chat-completion-api", maxOutputTokens: 512 }])
      const proc = Bun.spawn([bin, "exec", "-m", "Qwen", "--auto", "off", "look"], {
        cwd: dir,
        env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1", HOME: localHome, BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-agent-data-")), BYOK_MAX_RETRIES: "0" },
        stdout: "pipe",
        stderr: "pipe"
      })
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
      expect(code).toBe(0)
      expect(stdout).toBe("ok\n")
      expect(stderr).toMatch(/→ LS \. · \d+ entr/)
      const posts = ollama.posts.filter((p) => p.path === "/v1/chat/completions")
      expect(posts).toHaveLength(2)
      const last = (posts[1]!.body as { messages: Array<{ role: string; content?: string }> }).messages.at(-1)!
      expect(last.role).toBe("tool")
      expect(last.content).toContain("README.md")
    } finally {
      ollama.stop()
    }
  })
})
