// Ledger benchmarks (not tests):
//  1. one ledger write (an INSERT in WAL mode, the file already open): median and p99 over 2,000 writes. Target ≤ 1 ms.
//  2. `dist/byok cost` over a ledger of 100,000 rows: median wall time. Target ≤ 100 ms.
// Run: npm run build && bun run bench/ledger.ts
import { Effect } from "effect"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { make, openLedger } from "../src/ledger/ledger.ts"
import { localDay } from "../src/ledger/schema.ts"
import { sampleRow } from "../test/lib/rows.ts"

const bin = join(import.meta.dir, "..", "dist", "byok")
const runs = Number(process.env["BENCH_RUNS"] ?? 15)
const pct = (xs: Array<number>, p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!

// 1. writes
const dir = mkdtempSync(join(tmpdir(), "byok-bench-ledger-"))
const ledger = make(join(dir, "ledger.db"))
await Effect.runPromise(ledger.record(sampleRow())) // opens and migrates
const writes: Array<number> = []
for (let i = 0; i < 2000; i++) {
  const row = sampleRow({ conversationId: `c${i % 50}`, ts: Date.now() })
  const t = performance.now()
  await Effect.runPromise(ledger.record(row))
  writes.push(performance.now() - t)
}
const writeMedian = pct(writes, 0.5)
console.log(`ledger write:       median ${writeMedian.toFixed(3)} ms, p99 ${pct(writes, 0.99).toFixed(3)} ms (target ≤ 1 ms)  ${writeMedian <= 1 ? "ok" : "MISSED"}`)

// 2. byok cost over 100k rows
if (!existsSync(bin)) {
  console.error("bench: dist/byok is missing: run `npm run build` first")
  process.exit(1)
}
const big = mkdtempSync(join(tmpdir(), "byok-bench-100k-"))
const db = openLedger(join(big, "ledger.db"))
const models = ["Claude Sonnet", "GPT-5.1", "Llama [Ollama]", "Kimi K2", "DeepSeek"]
const insert = db.query(`INSERT INTO requests (ts, day, conversation_id, model_name, provider, model_id, host, input_uncached,
  cache_read, cache_write_5m, cache_write_1h, output_tokens, reasoning_tokens, usage_reported, cost_input, cost_cache_read,
  cost_cache_write, cost_output, cost_total, savings, price_source, request_id, duration_ms, ttft_ms, outcome, stop_reason)
  VALUES (?, ?, ?, ?, 'anthropic', 'm', 'h', 100, 900, 50, 0, 40, 0, 1, 0.0003, 0.00027, 0.0001875, 0.0006, 0.0013575, 0.0024,
  'table 2026-11-26', NULL, 1000, 200, 'ok', 'end_turn')`)
const start = Date.now() - 90 * 86_400_000
db.transaction(() => {
  for (let i = 0; i < 100_000; i++) {
    const ts = start + i * 77_760
    insert.run(ts, localDay(ts), `conv-${i % 5000}`, models[i % models.length]!)
  }
})()
db.close()
const times: Array<number> = []
for (let i = 0; i < runs + 1; i++) {
  const t = performance.now()
  const p = Bun.spawnSync([bin, "cost"], { env: { ...process.env, BYOK_HOME: big }, stdout: "pipe", stderr: "pipe" })
  if (p.exitCode !== 0 || !p.stdout.toString().includes("100000 requests")) throw new Error(p.stderr.toString() + p.stdout.toString())
  if (i > 0) times.push(performance.now() - t)
}
const costMedian = pct(times, 0.5)
console.log(`byok cost, 100k rows: median ${costMedian.toFixed(1)} ms (target ≤ 100 ms)  ${costMedian <= 100 ? "ok" : "MISSED"}`)
