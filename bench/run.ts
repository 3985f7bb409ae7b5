// Benchmarks (not tests): byok against baselines measured in the same run (issue 12's targets).
//  1. `dist/byok exec` on a loopback stream of 2,000 text deltas in each wire format (Chat Completions, Messages,
//     Responses), next to `curl -N` of the same stream: median wall time, ratio, peak RSS.
//     Targets: ≤ 3× curl and ≤ 40 MiB, each format.
//  2. `dist/byok --version` and `--help` next to a compiled Bun hello world: median wall time and ratio.
//     Targets: --version ≤ 2× hello and ≤ 20 MiB; --help ≤ 3× hello.
// A figure whose baseline cannot be measured (no curl, no GNU time, the hello world does not build) stops the
// bench with exit 1; a missed target is printed as MISSED and does not.
// Run: npm run build && npm run bench   (BENCH_RUNS=N to change the number of runs, default 15)
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = join(import.meta.dir, "..")
const bin = join(root, "dist", "byok")
const runs = Number(process.env["BENCH_RUNS"] ?? 15)
const DELTAS = 2000

const fail = (why: string): never => {
  console.error(`bench: ${why}`)
  process.exit(1)
}

if (!existsSync(bin)) fail("dist/byok is missing: run `npm run build` first")
// Peak RSS comes from GNU time (`/usr/bin/time -f %M`, KiB): Bun's resourceUsage() reports the wrong process here.
if (!existsSync("/usr/bin/time")) fail("GNU time is missing (apt-get install time): peak RSS cannot be measured")
if (Bun.which("curl") === null) fail("curl is missing (apt-get install curl): the streaming baseline cannot be measured")

// ---- the streams, one per wire format ----------------------------------------------------------------------------
const encoder = new TextEncoder()
const event = (name: string | undefined, data: unknown) =>
  encoder.encode(`${name !== undefined ? `event: ${name}\n` : ""}data: ${JSON.stringify(data)}\n\n`)
const text = (i: number) => `tok${i} `
const deltas = <A>(f: (i: number) => A) => Array.from({ length: DELTAS }, (_, i) => f(i))

const streams: Record<string, ReadonlyArray<Uint8Array>> = {
  "/v1/chat/completions": [
    ...deltas((i) => event(undefined, {
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      model: "bench",
      choices: [{ index: 0, delta: { content: text(i) }, finish_reason: null }],
      usage: null
    })),
    event(undefined, { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
    event(undefined, { choices: [], usage: { prompt_tokens: 10, completion_tokens: DELTAS } }),
    encoder.encode("data: [DONE]\n\n")
  ],
  "/v1/messages": [
    event("message_start", {
      type: "message_start",
      message: { id: "msg_bench", type: "message", role: "assistant", content: [], model: "bench", usage: { input_tokens: 10, output_tokens: 1 } }
    }),
    event("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    ...deltas((i) => event("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: text(i) } })),
    event("content_block_stop", { type: "content_block_stop", index: 0 }),
    event("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: DELTAS } }),
    event("message_stop", { type: "message_stop" })
  ],
  "/v1/responses": [
    event("response.created", { type: "response.created", response: { id: "resp_bench", status: "in_progress", model: "bench", output: [] } }),
    ...deltas((i) => event("response.output_text.delta", {
      type: "response.output_text.delta", item_id: "msg_bench", output_index: 0, content_index: 0, delta: text(i)
    })),
    event("response.completed", {
      type: "response.completed",
      response: { id: "resp_bench", status: "completed", model: "bench", output: [], usage: { input_tokens: 10, output_tokens: DELTAS, total_tokens: 10 + DELTAS } }
    })
  ]
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  // A loopback server that is none of the local servers byok recognises: its probes (GETs) get a 404.
  fetch: (req) => {
    const chunks = streams[new URL(req.url).pathname]
    return req.method !== "POST" || chunks === undefined ? new Response("not found", { status: 404 }) : new Response(
      new ReadableStream({
        start(controller) {
          for (const c of chunks) controller.enqueue(c)
          controller.close()
        }
      }),
      { headers: { "content-type": "text/event-stream" } }
    )
  }
})
const origin = `http://127.0.0.1:${server.port}`

const formats = [
  { name: "chat completions", provider: "generic-chat-completion-api", baseUrl: `${origin}/v1`, path: "/v1/chat/completions" },
  { name: "anthropic messages", provider: "anthropic", baseUrl: origin, path: "/v1/messages" },
  { name: "openai responses", provider: "openai", baseUrl: `${origin}/v1`, path: "/v1/responses" }
] as const

const home = mkdtempSync(join(tmpdir(), "byok-bench-"))
const config = join(home, "config.json")
writeFileSync(config, JSON.stringify({
  custom_models: formats.map((f) => ({
    model_display_name: f.name,
    model: "bench",
    base_url: f.baseUrl,
    api_key: "bench",
    provider: f.provider,
    max_tokens: 4096
  }))
}))

// ---- measuring ---------------------------------------------------------------------------------------------------
interface Sample {
  readonly ms: number
  readonly rssMiB: number
}

const measure = async (cmd: Array<string>, check?: (stdout: string) => boolean): Promise<Sample> => {
  const rssFile = join(home, "rss")
  const start = performance.now()
  const proc = Bun.spawn(["/usr/bin/time", "-o", rssFile, "-f", "%M", ...cmd], {
    env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_CONFIG: config, NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const stdout = await new Response(proc.stdout).text()
  await proc.exited
  const ms = performance.now() - start
  if (proc.exitCode !== 0 || (check && !check(stdout))) {
    fail(`${cmd.join(" ")} failed (exit ${proc.exitCode}): ${await new Response(proc.stderr).text()}`)
  }
  const rssMiB = Number((await Bun.file(rssFile).text()).trim().split("\n").at(-1)) / 1024
  if (!Number.isFinite(rssMiB)) fail(`GNU time gave no peak RSS for ${cmd.join(" ")}`)
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
  if (b.exitCode !== 0) fail(`the Bun hello world (the start-up baseline) did not build: ${b.stderr.toString()}`)
}

const f = (n: number) => n.toFixed(1)
const row = (name: string, r: { median: number; peakRss: number }) =>
  console.log(`${name.padEnd(40)} median ${f(r.median).padStart(7)} ms   peak RSS ${f(r.peakRss).padStart(6)} MiB`)
const verdict = (ok: boolean) => (ok ? "ok" : "MISSED")
console.log(`runs: ${runs} each, ${DELTAS} deltas, loopback`)

const checks: Array<string> = []
for (const format of formats) {
  // Each client's run is paired with curl's in the same stretch of time.
  const curl = await series(["curl", "-sN", "-X", "POST", `${origin}${format.path}`, "-d", "{}"], (s) => s.includes(text(DELTAS - 1)))
  const byok = await series([bin, "exec", "-m", format.name, "bench"], fullAnswer)
  row(`curl -N, ${format.name} (baseline)`, curl)
  row(`byok exec, ${format.name}`, byok)
  const ratio = byok.median / curl.median
  checks.push(`exec ${format.name.padEnd(19)} ${f(ratio).padStart(5)}× curl  (≤ 3×) ${verdict(ratio <= 3)}, ${f(byok.peakRss)} MiB (≤ 40) ${verdict(byok.peakRss <= 40)}`)
}
const helloT = await series([hello])
const version = await series([bin, "--version"])
const help = await series([bin, "--help"])
server.stop(true)
row("bun hello world (baseline)", helloT)
row("byok --version", version)
row("byok --help", help)
const versionRatio = version.median / helloT.median
const helpRatio = help.median / helloT.median
checks.push(`--version ${f(versionRatio).padStart(20)}× hello (≤ 2×) ${verdict(versionRatio <= 2)}, ${f(version.peakRss)} MiB (≤ 20) ${verdict(version.peakRss <= 20)}`)
checks.push(`--help ${f(helpRatio).padStart(23)}× hello (≤ 3×) ${verdict(helpRatio <= 3)}`)
for (const line of checks) console.log(line)
