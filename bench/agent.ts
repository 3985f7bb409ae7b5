// Agent-loop benchmarks (not tests), against a loopback fake model that asks to Read a small file, step after step
// (from line 1, then 2, in turn: the same call three times in a row would stop the loop):
//  1. byok's own time from the end of a stream that asks for Read to the next request leaving (the tool's run, the
//     ledger row, the session save, building the next request): median over every step. Target ≤ 5 ms.
//  2. A 50-step loop: the median of that time over the last 5 steps against the first 5 (the conversation, the
//     request and the stored session grow every step). Target ≤ 2×.
// The time is measured at the fake server (bench/lib/loop.ts): when it finished sending a response, and when the next
// request came.
// Run: npm run build && bun run bench/agent.ts   (BENCH_RUNS=N loops, default 5)
import { existsSync } from "node:fs"
import { join } from "node:path"
import { median, stepGaps } from "./lib/loop.ts"

const bin = join(import.meta.dir, "..", "dist", "byok")
if (!existsSync(bin)) {
  console.error("bench: dist/byok is missing: run `npm run build` first")
  process.exit(1)
}
const runs = Number(process.env["BENCH_RUNS"] ?? 5)
const STEPS = 50
const loop = () =>
  stepGaps({
    bin,
    steps: STEPS,
    auto: "off",
    // Read from line 1, then 2, in turn: the same call three times in a row would stop the loop
    call: (n) => ({ name: "Read", args: { file_path: "README.md", offset: 1 + (n % 2) } }),
    files: { "README.md": "# Bench\nA small file to read.\n" }
  })

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
