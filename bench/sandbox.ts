// What the sandbox costs an Execute call (not a test): a loopback fake model asks for `Execute true` step after
// step, and the time byok takes from the end of that answer to the next request (the command's run included) is
// measured with the sandbox on (--auto low: Landlock and seccomp through byok's own binary) and off (settings.json
// sandbox: "off"), alternating runs in the same process so both see the same machine. Target: the medians differ
// by at most 10 ms. A second figure: a helper started cold (`byok __sandbox`, its job on stdin) against `sh -c true`;
// in use, byok starts the next helper while the model thinks, and the first figure shows what is left.
// Run: npm run build && bun run bench/sandbox.ts   (BENCH_RUNS=N pairs of loops, default 5)
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { rulesFor } from "../src/sandbox/linux.ts"
import { DEFAULT_SETTINGS, policyFor } from "../src/sandbox/policy.ts"
import { detect } from "../src/sandbox/sandbox.ts"
import { median, stepGaps } from "./lib/loop.ts"

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
const loop = (sandbox: "auto" | "off", thinking: number) =>
  stepGaps({
    bin,
    steps: STEPS,
    auto: "low",
    settings: { sandbox },
    thinking,
    // `true` with a changing comment: the same call three times in a row would stop the loop
    call: (n) => ({ name: "Execute", args: { command: `true # ${n}` } })
  })

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
