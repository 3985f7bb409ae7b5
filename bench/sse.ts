// SSE parsing on its own: effect/encoding's parser against byok's (src/providers/sse.ts), each reading the body of a
// 2,000-event Chat Completions answer in 64 KiB pieces, in a fresh binary built as byok is (build.ts), so that the
// JIT is as cold as in a real run. Medians of BENCH_RUNS processes (default 21).
// Run: bun run bench/sse.ts
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { buildOptions } from "../build.ts"

const root = join(import.meta.dir, "..")
const runs = Number(process.env["BENCH_RUNS"] ?? 21)
const out = join(root, "bench", ".out")
mkdirSync(out, { recursive: true })
const entry = join(out, "sse-entry.ts")
const binary = join(out, "sse")

writeFileSync(entry, `
import * as Sse from "effect/encoding/Sse"
import { makeSseParser } from ${JSON.stringify(join(root, "src", "providers", "sse.ts"))}
let body = ""
for (let i = 0; i < 2000; i++) {
  body += "data: " + JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", model: "bench",
    choices: [{ index: 0, delta: { content: "tok" + i + " " }, finish_reason: null }], usage: null }) + "\\n\\n"
}
const pieces = []
for (let i = 0; i < body.length; i += 65536) pieces.push(body.slice(i, i + 65536))
let events = 0
const started = performance.now()
if (process.argv[2] === "effect") {
  const parser = Sse.makeParser(() => void events++)
  for (const piece of pieces) parser.feed(piece)
} else {
  const parser = makeSseParser(() => void events++)
  for (const piece of pieces) parser.feed(piece)
}
const ms = performance.now() - started
if (events !== 2000) throw new Error("parsed " + events + " events")
process.stdout.write(String(ms))
`)

const result = await Bun.build(await buildOptions(binary, "host", undefined, entry))
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}

const median = (xs: Array<number>) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const series = (which: string) =>
  median(Array.from({ length: runs }, () => Number(Bun.spawnSync([binary, which]).stdout.toString())))
const effect = series("effect")
const byok = series("byok")
console.log(`SSE, 2,000 events in 64 KiB pieces, medians of ${runs} runs of a compiled binary:`)
console.log(`  effect/encoding makeParser  ${effect.toFixed(2).padStart(6)} ms`)
console.log(`  byok makeSseParser          ${byok.toFixed(2).padStart(6)} ms  (${(effect / byok).toFixed(1)}× faster)`)
