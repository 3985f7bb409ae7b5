// Compiles byok into one self-contained binary, dist/byok, then runs it: a bytecode build without ESM format
// prints an error, exits 0 and writes a binary that crashes, so a build is only good once the binary answers.
import pkg from "./package.json" with { type: "json" }

const outfile = process.env["BYOK_OUTFILE"] ?? "dist/byok"
const version = pkg.version

const result = await Bun.build({
  entrypoints: ["src/main.ts"],
  compile: { outfile },
  minify: true,
  bytecode: true,
  format: "esm",
  target: "bun",
  define: { BYOK_VERSION: JSON.stringify(version) }
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  console.error("build: failed")
  process.exit(1)
}
for (const log of result.logs) console.error(log)

const run = Bun.spawnSync([outfile, "--version"], { stdout: "pipe", stderr: "pipe" })
const printed = run.stdout.toString().trim()
if (run.exitCode !== 0 || !printed.includes(version)) {
  console.error(`build: ${outfile} --version printed ${JSON.stringify(printed)} (exit ${run.exitCode}), expected ${version}`)
  console.error(run.stderr.toString())
  process.exit(1)
}
console.log(`build: ${outfile} ${printed}`)
