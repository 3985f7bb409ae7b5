// Builds byok into self-contained binaries, and runs what it built: a bytecode build without ESM format prints an
// error, exits 0 and writes a binary that crashes, so a build is only good once a binary answers.
//   bun run build.ts            dist/byok for this machine (BYOK_OUTFILE to write it elsewhere)
//   bun run build.ts --release  every release target into dist/release/byok-<version>-<os>-<arch>[-variant],
//                               with SHA256SUMS; Bun fetches each target's runtime from the npm registry
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { Effect } from "effect"
import pkg from "./package.json" with { type: "json" }
import { type HelpPage, helpPages, versionPage } from "./src/cli/help.ts"
import { versionLine } from "./src/version.ts"

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

/** JavaScriptCore's tier-up thresholds times this (Bun's compile.jitPolicy; 1 is normal). */
const JIT_POLICY = 16

const hostName = `${process.platform}-${process.arch}`

/**
 * The Bun.build options of a byok binary: one definition for the release, the host build and the benchmarks'
 * binaries (bench/modules.ts, bench/sse.ts), so that what is measured is built as what ships.
 */
export const buildOptions = async (
  outfile: string,
  name: string,
  target?: string,
  entrypoint = join(import.meta.dir, "src", "main.ts")
): Promise<Bun.BuildConfig> => ({
  entrypoints: [entrypoint],
  compile: {
    outfile,
    ...(target !== undefined ? { target: target as Bun.Build.CompileTarget } : {}),
    // A .env or bunfig.toml in whatever directory byok runs from is the user's project's, not byok's: loading it
    // could set byok's variables (BYOK_CONFIG, keys) or preload code, and looking for it reads every directory
    // from / to the working directory (23 ms of a --version run in a /tmp of 50,000 entries).
    autoloadDotenv: false,
    autoloadBunfig: false,
    // Most of a run's code runs once: a JIT that tiers up later spends less of a short run compiling it.
    jitPolicy: JIT_POLICY
  },
  // main.ts imports the application dynamically: with splitting it stays a module of its own, loaded only when
  // the command needs it (without, the bundler wraps every module in a lazy initialiser, which costs exec time).
  splitting: true,
  minify: true,
  bytecode: true,
  format: "esm",
  target: "bun",
  define: {
    BYOK_VERSION: JSON.stringify(version),
    BYOK_COMMIT: JSON.stringify(commit),
    BYOK_TARGET: JSON.stringify(name),
    BYOK_HELP: JSON.stringify(await helpPagesOnce()),
    BYOK_VERSION_PAGE: JSON.stringify(versionPage(versionLine(version, commit, name)))
  }
})

let pages: Promise<Record<string, HelpPage>> | undefined
/** The help pages main.ts prints itself, rendered by effect/cli from the command tree (once per build). */
const helpPagesOnce = () => (pages ??= Effect.runPromise(helpPages))

const compile = async (outfile: string, name: string, target?: string) => {
  const result = await Bun.build(await buildOptions(outfile, name, target))
  for (const log of result.logs) console.error(log)
  if (!result.success) {
    console.error(`build: ${name} failed`)
    process.exit(1)
  }
}

/**
 * Runs a binary's --version two ways; both must name the version. main.ts answers `--version` itself, so
 * `exec --version`, which effect/cli answers, is what shows that the application's modules load.
 */
const answers = (binary: string) => {
  let printed = ""
  for (const args of [["--version"], ["exec", "--version"]]) {
    const run = Bun.spawnSync([binary, ...args], { stdout: "pipe", stderr: "pipe" })
    printed = run.stdout.toString().trim()
    if (run.exitCode !== 0 || !printed.includes(version)) {
      console.error(`build: ${binary} ${args.join(" ")} printed ${JSON.stringify(printed)} (exit ${run.exitCode}), expected ${version}`)
      console.error(run.stderr.toString())
      process.exit(1)
    }
  }
  return printed
}

if (!import.meta.main) {
  // imported for buildOptions (bench/modules.ts): build nothing
} else if (process.argv.includes("--release")) {
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
