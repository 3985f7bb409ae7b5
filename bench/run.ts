// Benchmarks (not tests): byok against baselines measured in the same run.
//  1. `dist/byok exec` on a loopback stream of 2,000 Chat Completions deltas, next to `curl -N` of the same stream:
//     median wall time, ratio, peak RSS. Targets: ≤ 6× curl, ≤ 60 MiB.
//  2. `dist/byok --help` next to a compiled Bun hello world: median wall time. Target: ≤ 30 ms.
// Run: npm run build && npm run bench   (BENCH_RUNS=N to change the number of runs, default 15)
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = join(import.meta.dir, "..")
const bin = join(root, "dist", "byok")
const runs = Number(process.env["BENCH_RUNS"] ?? 15)
const DELTAS = 2000

if (!existsSync(bin)) {
  console.error("bench: dist/byok is missing: run `npm run build` first")
  process.exit(1)
}

// ---- the stream --------------------------------------------------------------------------------------------------
const encoder = new TextEncoder()
const chunks: Array<Uint8Array> = []
for (let i = 0; i < DELTAS; i++) {
  const payload = {
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    model: "bench",
    choices: [{ index: 0, delta: { content: `tok${i} ` }, finish_reason: null }],
    usage: null
  }
  chunks.push(encoder.encode(`data: ${JSON.stringify(payload)}\n\n`))
}
chunks.push(encoder.encode(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`))
chunks.push(encoder.encode(
  `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 10, completion_tokens: DELTAS } })}\n\ndata: [DONE]\n\n`
))

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  // A loopback server that is none of the local servers byok recognises: its probes (GETs) get a 404.
  fetch: (req) =>
    req.method !== "POST" ? new Response("not found", { status: 404 }) : new Response(
      new ReadableStream({
        start(controller) {
          for (const c of chunks) controller.enqueue(c)
          controller.close()
        }
      }),
      { headers: { "content-type": "text/event-stream" } }
    )
})
const url = `http://127.0.0.1:${server.port}/v1`

const home = mkdtempSync(join(tmpdir(), "byok-bench-"))
const config = join(home, "config.json")
writeFileSync(config, JSON.stringify({
  custom_models: [{
    model_display_name: "Bench",
    model: "bench",
    base_url: url,
    api_key: "bench",
    provider: "generic-chat-completion-api",
    max_tokens: 4096
  }]
}))

// ---- measuring ---------------------------------------------------------------------------------------------------
interface Sample {
  readonly ms: number
  readonly rssMiB: number
}

// Peak RSS comes from GNU time (`/usr/bin/time -f %M`, KiB): Bun's resourceUsage() reports the wrong process here.
const gnuTime = existsSync("/usr/bin/time")

const measure = async (cmd: Array<string>, check?: (stdout: string) => boolean): Promise<Sample> => {
  const rssFile = join(home, "rss")
  const start = performance.now()
  const proc = Bun.spawn(gnuTime ? ["/usr/bin/time", "-o", rssFile, "-f", "%M", ...cmd] : cmd, {
    env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_CONFIG: config, NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const stdout = await new Response(proc.stdout).text()
  await proc.exited
  const ms = performance.now() - start
  if (proc.exitCode !== 0 || (check && !check(stdout))) {
    throw new Error(`bench: ${cmd.join(" ")} failed (exit ${proc.exitCode}): ${await new Response(proc.stderr).text()}`)
  }
  const rssMiB = gnuTime ? Number((await Bun.file(rssFile).text()).trim().split("\n").at(-1)) / 1024 : NaN
  return { ms, rssMiB }
}

const series = async (cmd: Array<string>, check?: (stdout: string) => boolean) => {
  await measure(cmd, check) // warm the page cache
  const samples: Array<Sample> = []
  for (let i = 0; i < runs; i++) samples.push(await measure(cmd, check))
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b)
  return {
    median: sorted[Math.floor(sorted.length / 2)]!,
    peakRss: Math.max(...samples.map((s) => s.rssMiB))
  }
}

const fullAnswer = (s: string) => s.includes(`tok${DELTAS - 1} `)

const outDir = join(root, "bench", ".out")
mkdirSync(outDir, { recursive: true })
const hello = join(outDir, "hello")
if (!existsSync(hello)) {
  const src = join(outDir, "hello.ts")
  writeFileSync(src, `console.log("hello")\n`)
  const b = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", "--format=esm", src, "--outfile", hello])
  if (b.exitCode !== 0) throw new Error(b.stderr.toString())
}

const curl = await series(["curl", "-sN", "-X", "POST", `${url}/chat/completions`, "-d", "{}"], fullAnswer)
const byok = await series([bin, "exec", "bench"], fullAnswer)
const helloT = await series([hello])
const help = await series([bin, "--help"])
server.stop(true)

const f = (n: number) => n.toFixed(1)
const row = (name: string, r: { median: number; peakRss: number }) =>
  console.log(`${name.padEnd(34)} median ${f(r.median).padStart(7)} ms   peak RSS ${f(r.peakRss).padStart(6)} MiB`)
console.log(`runs: ${runs} each, ${DELTAS} deltas, loopback`)
row("curl -N (baseline)", curl)
row("byok exec", byok)
row("bun hello world (baseline)", helloT)
row("byok --help", help)
const ratio = byok.median / curl.median
console.log(`exec / curl:        ${f(ratio)}×   (target ≤ 6×)          ${ratio <= 6 ? "ok" : "MISSED"}`)
console.log(`exec peak RSS:      ${f(byok.peakRss)} MiB (target ≤ 60 MiB)  ${byok.peakRss <= 60 ? "ok" : "MISSED"}`)
console.log(`--help:             ${f(help.median)} ms  (target ≤ 30 ms)   ${help.median <= 30 ? "ok" : "MISSED"}`)
console.log(`--help / hello:     ${f(help.median / helloT.median)}×`)
