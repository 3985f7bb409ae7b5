// The compiled byok binary for end-to-end tests, built once per test run (bun test runs all files in one process).
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

let built: string | undefined

/** BYOK_BIN names a binary to test (CI passes the one it built); else one is built from source, once per run. */
export const byokBinary = (): string => {
  const given = process.env["BYOK_BIN"]
  if (given !== undefined && given !== "") return given
  if (built !== undefined) return built
  const root = join(import.meta.dir, "..", "..")
  const bin = join(mkdtempSync(join(tmpdir(), "byok-bin-")), "byok")
  const build = Bun.spawnSync([process.execPath, "run", join(root, "build.ts")], {
    cwd: root,
    env: { ...process.env, BYOK_OUTFILE: bin },
    stdout: "pipe",
    stderr: "pipe"
  })
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}${build.stdout.toString()}`)
  built = bin
  return bin
}
