// What OpenTelemetry export costs a run (not a test): `dist/byok exec` against a loopback fake model, with no
// telemetry (the baseline, measured in the same run), with a loopback OTLP/HTTP collector that answers, with one
// that takes the request and never answers, and with none listening. Runs alternate so all see the same machine.
// Targets: a live collector adds at most 50 ms to the median; a hanging or missing one at most the flush budget
// (1 s) and 150 ms more; the exit code is 0 every time.
// Run: npm run build && bun run bench/telemetry.ts   (BENCH_RUNS=N, default 7)
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const bin = join(import.meta.dir, "..", "dist", "byok")
if (!existsSync(bin)) {
  console.error("bench: dist/byok is missing: run `npm run build` first")
  process.exit(1)
}
const runs = Number(process.env["BENCH_RUNS"] ?? 7)

const model = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req) =>
    req.method !== "POST"
      ? new Response("not found", { status: 404 })
      : Response.json({
        object: "chat.completion",
        model: "bench",
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 10, completion_tokens: 1 }
      })
})
let received = 0
const live = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async (req) => (await req.arrayBuffer(), received++, new Response("{}")) })
const hanging = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: () => new Promise<Response>(() => {}) })
// A port nothing listens on: the one a closed server had.
const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") })
const deadPort = closed.port
closed.stop(true)

const home = mkdtempSync(join(tmpdir(), "byok-bench-otel-"))
mkdirSync(join(home, ".factory"))
writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({
  customModels: [{ displayName: "M", model: "bench", baseUrl: `http://127.0.0.1:${model.port}/v1`, apiKey: "sk-bench-0123456789", provider: "generic-chat-completion-api", maxOutputTokens: 16 }]
}))

const cases: Record<string, Record<string, string>> = {
  "no telemetry (baseline)": {},
  "live collector": { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${live.port}` },
  "hanging collector": { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${hanging.port}` },
  "no collector": { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadPort}` }
}
const times: Record<string, Array<number>> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
let badExit = 0
for (let i = 0; i < runs; i++) {
  for (const [name, env] of Object.entries(cases)) {
    const started = performance.now()
    const proc = Bun.spawn([bin, "exec", "hi"], {
      env: { PATH: process.env["PATH"] ?? "", HOME: home, BYOK_HOME: join(home, "data"), NO_COLOR: "1", ...env },
      stdout: "ignore",
      stderr: "ignore"
    })
    if ((await proc.exited) !== 0) badExit++
    times[name]!.push(performance.now() - started)
  }
}
model.stop(true)
live.stop(true)
hanging.stop(true)

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const base = median(times["no telemetry (baseline)"]!)
const limits: Record<string, number> = { "live collector": 50, "hanging collector": 1150, "no collector": 1150 }
console.log(`byok exec, median of ${runs} runs each (ms); the collector received ${received} exports`)
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs)
  const limit = limits[name]
  const verdict = limit === undefined ? "" : m - base <= limit ? `  +${(m - base).toFixed(0)} ms (target ≤ +${limit})` : `  +${(m - base).toFixed(0)} ms MISSED (target ≤ +${limit})`
  console.log(`  ${name.padEnd(24)} ${m.toFixed(0).padStart(6)}${verdict}`)
}
if (badExit > 0) {
  console.log(`  MISSED: ${badExit} runs exited with a code other than 0`)
}
