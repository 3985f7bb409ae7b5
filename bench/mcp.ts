// MCP start-up benchmark (not a test): `byok exec --auto low` answered at once by a loopback fake model, with no
// MCP servers configured, and with three (server-everything, server-filesystem and a small stdio server) whose tool
// lists are cached. Runs alternate; the median wall time of each is compared. Target: with cached servers within
// 10% of none (≤ 1.10×). Also checked: no server was started by a run that called none of its tools.
// Run: npm run build && bun run bench/mcp.ts   (BENCH_RUNS=N pairs, default 15)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = join(import.meta.dir, "..")
const bin = join(root, "dist", "byok")
if (!existsSync(bin)) {
  console.error("bench: dist/byok is missing: run `npm run build` first")
  process.exit(1)
}
const runs = Number(process.env["BENCH_RUNS"] ?? 15)
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!

const encoder = new TextEncoder()
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () =>
    new Response(
      encoder.encode(
        `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "ok" }, finish_reason: "stop" }] })}\n\n` +
          `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 1 } })}\n\ndata: [DONE]\n\n`
      ),
      { headers: { "content-type": "text/event-stream" } }
    )
})

const dir = mkdtempSync(join(tmpdir(), "byok-bench-mcp-"))
const mark = join(dir, "started")
const homeWith = (name: string, servers: Record<string, unknown> | undefined) => {
  const home = join(dir, name)
  mkdirSync(join(home, ".factory"), { recursive: true })
  writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({
    customModels: [{ displayName: "M", model: "m", baseUrl: `http://127.0.0.1:${server.port}/v1`, apiKey: "k", provider: "generic-chat-completion-api", maxOutputTokens: 100 }]
  }))
  if (servers !== undefined) writeFileSync(join(home, ".factory", "mcp.json"), JSON.stringify({ mcpServers: servers }))
  return home
}
const none = homeWith("none", undefined)
const three = homeWith("three", {
  everything: { command: join(root, "node_modules/.bin/mcp-server-everything") },
  files: { command: join(root, "node_modules/.bin/mcp-server-filesystem"), args: [dir] },
  odd: { command: process.execPath, args: [join(root, "test/fixtures/mcp/odd-server.ts"), "plain"], env: { MARK: mark } }
})

const exec = async (home: string): Promise<number> => {
  const started = performance.now()
  const proc = Bun.spawn([bin, "exec", "-m", "M", "--auto", "low", "hi"], {
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_HOME: join(home, "data") },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
  if (code !== 0) throw new Error(`exec failed: ${stderr}`)
  return performance.now() - started
}

// The first run lists the three servers and caches their tools.
const first = await exec(three)
if (readFileSync(mark, "utf8") !== "started\n") throw new Error("the first run did not start the servers")
const times = { none: [] as Array<number>, three: [] as Array<number> }
await exec(none)
for (let i = 0; i < runs; i++) {
  times.none.push(await exec(none))
  times.three.push(await exec(three))
}
server.stop(true)
const started = readFileSync(mark, "utf8").split("\n").filter(Boolean).length
const a = median(times.none)
const b = median(times.three)
console.log(`first run with three servers (they start and list their tools): ${first.toFixed(1)} ms`)
console.log(`exec --auto low, no MCP servers: median ${a.toFixed(1)} ms; three servers, lists cached: median ${b.toFixed(1)} ms`)
console.log(`ratio ${(b / a).toFixed(3)}× (target ≤ 1.10×)  ${b / a <= 1.1 ? "ok" : "MISSED"}`)
console.log(`servers started by the ${runs} cached runs: ${started - 1} (target 0)  ${started === 1 ? "ok" : "MISSED"}`)
