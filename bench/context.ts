// What knowing the context costs an agent loop (not a test):
//  1. byok's bookkeeping alone, per step, at 500 messages: the view a request carries (summary, pruned results) and
//     the running estimate of the next request (the last answer's real count plus what was added since). Target
//     ≤ 1 ms a step.
//  2. A 250-step loop (500 messages) from the compiled binary against a loopback fake: byok's time from the end of an
//     answer to the next request, steps 1–5 against 246–250. Target: flat (≤ 2×).
// Run: npm run build && bun run bench/context.ts
import { existsSync } from "node:fs"
import { join } from "node:path"
import { turnTokens, viewOf } from "../src/conversation/compaction.ts"
import type { Turn } from "../src/providers/conversation.ts"
import { median, stepGaps } from "./lib/loop.ts"

const turns: Array<Turn> = [{ role: "user", parts: [{ type: "text", text: "Read the file many times." }] }]
for (let i = 0; i < 250; i++) {
  turns.push({ role: "assistant", parts: [{ type: "tool-call", kind: "function", id: `c${i}`, name: "Read", arguments: JSON.stringify({ file_path: "README.md", offset: i }) }] })
  turns.push({ role: "user", parts: [{ type: "tool-result", callId: `c${i}`, name: "Read", output: "1\t# Bench\n2\tA small file to read.\n".repeat(20) }] })
}
const state = { summary: "The user asked for many reads.", through: 40, pruned: 200 }
const rounds = 2000
const t0 = performance.now()
let sink = 0
for (let r = 0; r < rounds; r++) {
  const view = viewOf(turns, state)
  // the running estimate: the last answer's count, plus the two turns added since
  sink += view.length + turnTokens(turns[turns.length - 2]!) + turnTokens(turns[turns.length - 1]!)
}
const perStep = (performance.now() - t0) / rounds
if (sink < 0) console.log(sink) // (kept, so the work is not optimised away)
console.log(`bookkeeping per step at ${turns.length} messages: ${perStep.toFixed(3)} ms (target ≤ 1 ms)  ${perStep <= 1 ? "ok" : "MISSED"}`)

const bin = join(import.meta.dir, "..", "dist", "byok")
if (!existsSync(bin)) {
  console.error("bench: dist/byok is missing: run `npm run build` first")
  process.exit(1)
}
const STEPS = 250
const gaps = await stepGaps({
  bin,
  steps: STEPS,
  auto: "off",
  // a window the loop never fills: what is measured is the bookkeeping, not a compaction
  entry: { contextWindow: 1_000_000 },
  call: (n) => ({ name: "Read", args: { file_path: "README.md", offset: 1 + (n % 2) } }),
  files: { "README.md": "# Bench\nA small file to read.\n" }
})
const first = median(gaps.slice(0, 5))
const last = median(gaps.slice(-5))
console.log(`a ${STEPS}-step loop (${STEPS * 2} messages): steps 1–5 median ${first.toFixed(2)} ms, steps ${STEPS - 4}–${STEPS} ${last.toFixed(2)} ms: ${(last / first).toFixed(2)}× (target ≤ 2×)  ${last / first <= 2 ? "ok" : "MISSED"}`)
