// Where start-up goes, module by module (issue 12: "measure before you change"). Builds a copy of the binary whose
// every module notes the time its body starts, runs it (`--help` unless told otherwise) and prints the median
// time of each module's own body, by package and by file, what came before the first module (the runtime), and
// the rest (loading the modules' code, and the command's own work). The copy has no help pages built in (BYOK_HELP), so its --help runs
// through the application and effect/cli: the start-up every command shares.
// Run: bun run bench/modules.ts [ARGS…]   (BENCH_RUNS=N, default 21)
import { mkdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { buildOptions } from "../build.ts"

const root = join(import.meta.dir, "..")
const runs = Number(process.env["BENCH_RUNS"] ?? 21)
const args = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["--help"]
const out = join(root, "bench", ".out")
mkdirSync(out, { recursive: true })
const binary = join(out, "byok-modules")

/** A module's name in the report: a source file, or a package and the file inside it. */
const nameOf = (path: string) => {
  const rel = relative(root, path)
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(rel)
  return pkg !== null ? `${pkg[1]}:${pkg[2]!.replace(/^(dist\/)?(esm\/)?/, "")}` : rel
}

// Each module notes when its body starts and ends (its imports are evaluated before it starts, so the two bound
// its own work); modules loaded later by dynamic import (a command's implementation) are counted the same way.
const mark = (name: string, edge: "start" | "end") =>
  `;(globalThis.__byokMarks ??= []).push([${JSON.stringify(name)}, "${edge}", performance.now()]);\n`
const dump = `process.on("exit", () => { const m = globalThis.__byokMarks; m.push(["(exit)", "start", performance.now()]);` +
  ` process.stderr.write("\\n__MARKS__" + JSON.stringify(m) + "\\n") });\n`

const options = await buildOptions(binary, "host")
const result = await Bun.build({
  ...options,
  define: { BYOK_VERSION: JSON.stringify("0.0.0-modules"), BYOK_COMMIT: JSON.stringify("modules"), BYOK_TARGET: JSON.stringify("host") },
  plugins: [{
    name: "module-marks",
    setup(build) {
      // OpenAI's vocabulary is a file in the binary, not a module (lib/tokens.ts): left to the default loader.
      build.onLoad({ filter: /^(?!.*bpeRanks).*\.(ts|js|mjs)$/ }, (file) => {
        const source = readFileSync(file.path, "utf8")
        const entry = file.path.endsWith(join("src", "main.ts"))
        const name = nameOf(file.path)
        return {
          contents: mark(name, "start") + (entry ? dump : "") + source + "\n" + mark(name, "end"),
          loader: file.path.endsWith(".ts") ? "ts" : "js"
        }
      })
    }
  }]
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}

const perModule = new Map<string, Array<number>>()
const before: Array<number> = []
const total: Array<number> = []
for (let i = 0; i < runs + 1; i++) {
  const run = Bun.spawnSync([binary, ...args], { stdout: "ignore", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } })
  const line = run.stderr.toString().split("\n").find((l) => l.startsWith("__MARKS__"))
  if (line === undefined) throw new Error(`bench: no marks from ${args.join(" ")}: ${run.stderr.toString()}`)
  if (i === 0) continue // warms the page cache
  const marks = JSON.parse(line.slice("__MARKS__".length)) as Array<[string, "start" | "end", number]>
  before.push(marks[0]![2])
  total.push(marks.at(-1)![2])
  const started = new Map<string, number>()
  for (const [name, edge, at] of marks) {
    // main.ts waits for the whole application (a top-level await), and app.ts runs the command: the rest.
    if (name === "src/main.ts" || name === "src/app.ts" || name === "(exit)") continue
    if (edge === "start") started.set(name, at)
    else perModule.set(name, [...(perModule.get(name) ?? []), at - started.get(name)!])
  }
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
const rows = [...perModule].map(([name, xs]) => ({ name, ms: median(xs) }))
const groups = new Map<string, number>()
for (const r of rows) {
  const group = r.name.includes(":") ? r.name.slice(0, r.name.indexOf(":")) : r.name.split("/").slice(0, 2).join("/")
  groups.set(group, (groups.get(group) ?? 0) + r.ms)
}
const f = (n: number) => n.toFixed(2).padStart(7)
const evaluating = rows.reduce((s, r) => s + r.ms, 0)
console.log(`byok ${args.join(" ")}: medians of ${runs} runs, ms`)
console.log(`${f(median(total))}  in all, to exit`)
console.log(`${f(median(before))}  before the first module (the runtime, reading the binary)`)
console.log(`${f(evaluating)}  evaluating ${rows.length} modules (their bodies; at start-up, or when a command loads its own)`)
console.log(`${f(median(total) - median(before) - evaluating)}  the rest: loading modules, and the command's own work`)
console.log("\nby package or source folder:")
for (const [group, ms] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${f(ms)}  ${group}`)
console.log("\nslowest modules:")
for (const r of rows.sort((a, b) => b.ms - a.ms).slice(0, 20)) console.log(`${f(r.ms)}  ${r.name}`)
