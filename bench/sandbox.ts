// What the sandbox costs an Execute call (not a test): a loopback fake model asks for `Execute true` step after
// step, and the time byok takes from the end of that answer to the next request (the command's run included) is
// measured with the sandbox on (--auto low: Landlock and seccomp through byok's own binary) and off (settings.json
// sandbox: "off"), alternating runs in the same process so both see the same machine. Target: the medians differ
// by at most 10 ms. A second figure: a helper started cold (`byok __sandbox`, its job on stdin) against `sh -c true`;
// in use, byok starts the next helper while the model thinks, and the first figure shows what is left.
// Run: npm run build && bun run bench/sandbox.ts   (BENCH_RUNS=N pairs of loops, default 5)
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { rulesFor } from "../src/sandbox/linux.ts"
import { DEFAULT_SETTINGS, policyFor } from "../src/sandbox/policy.ts"
import { detect } from "../src/sandbox/sandbox.ts"

const bin = join(import.meta.dir, "..", "dist", "byok")
if (!existsSync(bin)) {
  console.error("bench: dist/byok is missing: run `npm run build` first")
  process.exit(1)
}
const status = await detect()
if (status.kind !== "landlock") {
  console.log(`bench/sandbox.ts: no Landlock here (${status.why}); nothing to measure`)
  process.exit(0)
}
const runs = Number(process.env["BENCH_RUNS"] ?? 5)
const STEPS = 20
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
const encoder = new TextEncoder()
const chunk = (value: unknown) => encoder.encode(`data: ${JSON.stringify(value)}\n\n`)

/** One loop's gaps: from the end of answer i (a call of Execute) to the arrival of request i + 1, in ms. */
const loop = async (sandbox: "auto" | "off", thinking: number): Promise<Array<number>> => {
  const ended: Array<number> = []
  const arrived: Array<number> = []
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      // byok asks a loopback server what it is (GET /props, /api/version…): not a step
      if (req.method !== "POST") return new Response("", { status: 404 })
      arrived.push(performance.now())
      const body = await req.json() as { messages: Array<{ role: string }> }
      const results = body.messages.filter((m) => m.role === "tool").length
      // A model takes a while to answer; byok's time is counted from the end of its answer either way.
      if (thinking > 0) await Bun.sleep(thinking)
      const parts = results < STEPS
        ? [
          // `true` with a changing comment: the same call three times in a row would stop the loop
          chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: `call_${results}`, type: "function", function: { name: "Execute", arguments: JSON.stringify({ command: `true # ${results}` }) } }] } }] }),
          chunk({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }),
          chunk({ choices: [], usage: { prompt_tokens: 100, completion_tokens: 10 } })
        ]
        : [chunk({ choices: [{ index: 0, delta: { content: "done" }, finish_reason: "stop" }] }), chunk({ choices: [], usage: { prompt_tokens: 200, completion_tokens: 1 } })]
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
  const dir = mkdtempSync(join(tmpdir(), "byok-bench-sandbox-"))
  const home = join(dir, "home")
  mkdirSync(join(home, ".factory"), { recursive: true })
  writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({
    sandbox,
    customModels: [{ displayName: "M", model: "m", baseUrl: `http://127.0.0.1:${server.port}/v1`, apiKey: "k", provider: "generic-chat-completion-api", maxOutputTokens: 100 }]
  }))
  const proc = Bun.spawn([bin, "exec", "-m", "M", "--auto", "low", "--max-turns", String(STEPS + 5), "go"], {
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

for (const thinking of [100, 0]) {
  const on: Array<number> = []
  const off: Array<number> = []
  for (let r = 0; r < runs; r++) {
    off.push(...await loop("off", thinking))
    on.push(...await loop("auto", thinking))
  }
  const extra = median(on) - median(off)
  console.log(
    `Execute step, the model answering after ${thinking} ms: sandbox on ${median(on).toFixed(2)} ms, off ${median(off).toFixed(2)} ms: ` +
      `${extra.toFixed(2)} ms more, medians over ${on.length} steps each` +
      (thinking > 0 ? ` (target ≤ 10 ms)  ${extra <= 10 ? "ok" : "MISSED"}` : " (no time for the next helper to start: its start-up is paid)")
  )
}

// The helper alone, against the bare shell.
const home = process.env["HOME"] ?? "/"
const policy = policyFor("low", DEFAULT_SETTINGS, { home, cwd: process.cwd(), secretFiles: [], tmpdir: tmpdir(), sharedTmp: tmpdir() })
const t0 = performance.now()
const plan = { abi: status.abi, rules: rulesFor(policy, status.abi), network: false }
const planning = performance.now() - t0
const time = (argv: ReadonlyArray<string>, input?: string) => {
  const t = performance.now()
  const r = spawnSync(argv[0]!, argv.slice(1), input !== undefined ? { input } : {})
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`)
  return performance.now() - t
}
const bare: Array<number> = []
const helper: Array<number> = []
for (let i = 0; i < 41; i++) {
  bare.push(time(["/bin/sh", "-c", "true"]))
  helper.push(time([bin, "__sandbox"], `${JSON.stringify({ plan, file: "/bin/sh", argv: ["/bin/sh", "-c", "true"] })}\n`))
}
console.log(
  `the helper alone: sh -c true ${median(bare).toFixed(2)} ms, through byok __sandbox ${median(helper).toFixed(2)} ms ` +
    `(+${(median(helper) - median(bare)).toFixed(2)} ms); working out the rules once a run: ${planning.toFixed(2)} ms`
)
