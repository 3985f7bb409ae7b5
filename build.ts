// Builds byok into self-contained binaries, and runs what it built: a bytecode build without ESM format prints an
// error, exits 0 and writes a binary that crashes, so a build is only good once a binary answers.
//   bun run build.ts            dist/byok for this machine (BYOK_OUTFILE to write it elsewhere)
//   bun run build.ts --release  every release target into dist/release/byok-<version>-<os>-<arch>[-variant],
//                               with SHA256SUMS; Bun fetches each target's runtime from the npm registry
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import pkg from "./package.json" with { type: "json" }

const version = pkg.version
const commit = (() => {
  const r = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { stdout: "pipe", stderr: "ignore" })
  return r.exitCode === 0 ? r.stdout.toString().trim() : "unknown"
})()

/** The release matrix: Bun's compile target, and the name the binary ships under. */
export const TARGETS = [
  { target: "bun-linux-x64", name: "linux-x64" },
  { target: "bun-linux-x64-baseline", name: "linux-x64-baseline" },
  { target: "bun-linux-arm64", name: "linux-arm64" },
  { target: "bun-linux-x64-musl", name: "linux-x64-musl" },
  { target: "bun-linux-arm64-musl", name: "linux-arm64-musl" },
  { target: "bun-darwin-x64", name: "darwin-x64" },
  { target: "bun-darwin-arm64", name: "darwin-arm64" },
  { target: "bun-windows-x64", name: "windows-x64", ext: ".exe" }
] as const

const hostName = `${process.platform}-${process.arch}`

const compile = async (outfile: string, name: string, target?: string) => {
  const result = await Bun.build({
    entrypoints: ["src/main.ts"],
    compile: target !== undefined ? ({ outfile, target } as Bun.CompileBuildOptions) : { outfile },
    minify: true,
    bytecode: true,
    format: "esm",
    target: "bun",
    define: {
      BYOK_VERSION: JSON.stringify(version),
      BYOK_COMMIT: JSON.stringify(commit),
      BYOK_TARGET: JSON.stringify(name)
    }
  })
  for (const log of result.logs) console.error(log)
  if (!result.success) {
    console.error(`build: ${name} failed`)
    process.exit(1)
  }
}

/** Runs a binary's --version; it must name the version. */
const answers = (binary: string, prefix: ReadonlyArray<string> = []) => {
  const run = Bun.spawnSync([...prefix, binary, "--version"], { stdout: "pipe", stderr: "pipe" })
  const printed = run.stdout.toString().trim()
  if (run.exitCode !== 0 || !printed.includes(version)) {
    console.error(`build: ${binary} --version printed ${JSON.stringify(printed)} (exit ${run.exitCode}), expected ${version}`)
    console.error(run.stderr.toString())
    process.exit(1)
  }
  return printed
}

if (process.argv.includes("--release")) {
  const dir = "dist/release"
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const started = Date.now()
  const sums: Array<string> = []
  for (const t of TARGETS) {
    const file = join(dir, `byok-${version}-${t.name}${"ext" in t ? t.ext : ""}`)
    const one = Date.now()
    await compile(file, t.name, t.target)
    const bytes = await Bun.file(file).bytes()
    sums.push(`${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}  ${basename(file)}`)
    console.log(`build: ${file} ${(bytes.length / 1048576).toFixed(1)} MiB in ${((Date.now() - one) / 1000).toFixed(1)} s`)
    if (t.name === hostName) console.log(`build: ${answers(file)}`)
  }
  writeFileSync(join(dir, "SHA256SUMS"), `${sums.join("\n")}\n`)
  console.log(`build: ${TARGETS.length} targets and ${dir}/SHA256SUMS in ${((Date.now() - started) / 1000).toFixed(1)} s`)
} else {
  const outfile = process.env["BYOK_OUTFILE"] ?? "dist/byok"
  await compile(outfile, hostName)
  console.log(`build: ${outfile} ${answers(outfile)}`)
}
