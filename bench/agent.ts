// Agent-loop benchmarks (not tests), against a loopback fake model that asks to Read a small file, step after step
// (from line 1, then 2, in turn: the same call three times in a row would stop the loop):
//  1. byok's own time from the end of a stream that asks for Read to the next request leaving (the tool's run, the
//     ledger row, the session save, building the next request): median over every step. Target ≤ 5 ms.
//  2. A 50-step loop: the median of that time over the last 5 steps against the first 5 (the conversation, the
//     request and the stored session grow every step). Target ≤ 2×.
// The time is measured at the fake server: when it finished sending a response, and when the next request came.
// Run: npm run build && bun run bench/agent.ts   (BENCH_RUNS=N loops, default 5)
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const bin = join(import.meta.dir, "..", "dist", "byok")
if (!existsSync(bin)) {
  console.error("bench: dist/byok is missing: run `npm run build` first")
  process.exit(1)
}
const runs = Number(process.env["BENCH_RUNS"] ?? 5)
const STEPS = 50
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!

const encoder = new TextEncoder()
const chunk = (value: unknown) => encoder.encode(`data: ${JSON.stringify(value)}\n\n`)

/** One loop's gaps: for step i, from the end of response i to the arrival of request i + 1, in ms. */
const loop = async (): Promise<Array<number>> => {
  const ended: Array<number> = []
  const arrived: Array<number> = []
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.method !== "POST") return new Response("", { status: 404 })
      arrived.push(performance.now())
      const body = await req.json() as { messages: Array<{ role: string }> }
      const results = body.messages.filter((m) => m.role === "tool").length
      const parts = results < STEPS
        ? [
          chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: `call_${results}`, type: "function", function: { name: "Read", arguments: JSON.stringify({ file_path: "README.md", offset: 1 + (results % 2) }) } }] } }] }),
          chunk({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }),
          chunk({ choices: [], usage: { prompt_tokens: 100 + results * 30, completion_tokens: 10 } })
        ]
        : [chunk({ choices: [{ index: 0, delta: { content: "done" }, finish_reason: "stop" }] }), chunk({ choices: [], usage: { prompt_tokens: 2000, completion_tokens: 1 } })]
      return new Response(new ReadableStream({
        pull(controller) {
          for (const p of parts) controller.enqueue(p)
          controller.enqueue(encoder.encode("data: [DONE]\n\n"))
          controller.close()
          ended.push(performance.now())
        }
      }), { headers: { "content-type": "text/event-stream" } })
    }
  })
  const dir = mkdtempSync(join(tmpdir(), "byok-bench-agent-"))
  writeFileSync(join(dir, "README.md"), "# Bench\nA small file to read.\n")
  const home = join(dir, "home")
  mkdirSync(join(home, ".factory"), { recursive: true })
  writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({
    customModels: [{ displayName: "M", model: "m", baseUrl: `http://127.0.0.1:${server.port}/v1`, apiKey: "k", provider: "generic-chat-completion-api", maxOutputTokens: 100 }]
  }))
  // Not spawnSync: the fake server answers from this process's event loop while byok runs.
  const proc = Bun.spawn([bin, "exec", "-m", "M", "--auto", "off", "--max-turns", String(STEPS + 5), "read it"], {
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_HOME: join(dir, "data") },
    stdout: "pipe",
    stderr: "pipe"
  })
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
  server.stop(true)
  if (code !== 0) throw new Error(`the loop failed: ${stderr}`)
  return ended.slice(0, -1).map((t, i) => arrived[i + 1]! - t)
}

const all: Array<number> = []
const first: Array<number> = []
const last: Array<number> = []
for (let r = 0; r < runs; r++) {
  const gaps = await loop()
  all.push(...gaps)
  first.push(...gaps.slice(0, 5))
  last.push(...gaps.slice(-5))
}
const m = median(all)
const growth = median(last) / median(first)
console.log(`loop step (Read, then the next request leaves): median ${m.toFixed(2)} ms over ${all.length} steps (target ≤ 5 ms)  ${m <= 5 ? "ok" : "MISSED"}`)
console.log(`50-step loop: steps 1–5 median ${median(first).toFixed(2)} ms, steps 46–50 ${median(last).toFixed(2)} ms: ${growth.toFixed(2)}× (target ≤ 2×)  ${growth <= 2 ? "ok" : "MISSED"}`)
