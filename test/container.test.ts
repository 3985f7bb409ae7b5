// byok in a minimal root, as a distroless image gives it: only the binary, the C library files `ldd` names, /proc
// and /dev, a config file, and no HOME. Made with unshare (a private user and mount namespace, where root may bind
// mounts) and chroot, against a model server on loopback (the network namespace is shared). Skips with a message
// where unshare is not permitted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { answer } from "./lib/faults.ts"
import { runBinary } from "./lib/run.ts"

const permitted = Bun.spawnSync(["unshare", "-rm", "true"]).exitCode === 0 && Bun.spawnSync(["sh", "-c", "command -v ldd chroot"]).exitCode === 0
if (!permitted) console.warn("minimal-root tests skipped: unshare -rm is not permitted here (or ldd/chroot is missing)")

let root: string
let server: ReturnType<typeof Bun.serve> | undefined

beforeAll(() => {
  if (!permitted) return
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) =>
      req.method === "POST"
        ? new Response(answer("generic-chat-completion-api", ["from ", "a container"]), { headers: { "content-type": "text/event-stream" } })
        : new Response("", { status: 404 })
  })
  root = mkdtempSync(join(tmpdir(), "byok-root-"))
  const bin = byokBinary()
  copyFileSync(bin, join(root, "byok"))
  // The C library files the binary names, at the same paths.
  const ldd = Bun.spawnSync(["ldd", bin]).stdout.toString()
  for (const path of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) {
    mkdirSync(join(root, dirname(path[1]!)), { recursive: true })
    copyFileSync(path[1]!, join(root, path[1]!))
  }
  for (const d of ["proc", "dev", "cfg", "data"]) mkdirSync(join(root, d))
  writeFileSync(join(root, "cfg", "config.json"), JSON.stringify({
    custom_models: [{
      model_display_name: "Local",
      model: "m",
      base_url: `http://127.0.0.1:${server.port}/v1`,
      api_key: "${file:/run/secrets/key}",
      provider: "generic-chat-completion-api",
      max_tokens: 50
    }]
  }))
  mkdirSync(join(root, "run", "secrets"), { recursive: true })
  writeFileSync(join(root, "run", "secrets", "key"), "sk-container-secret-000000000\n")
}, 60_000)

afterAll(() => server?.stop(true))

/** Runs byok in the root, with only `env` (no HOME unless given), /proc and /dev bound in; `readOnly` makes the root read-only. */
const inRoot = (args: ReadonlyArray<string>, env: Record<string, string> = {}, readOnly = false) => {
  // The read-only bind comes first: /proc and /dev are then mounted onto it (Bun cannot start without /proc).
  const script = [
    ...(readOnly ? [`mount --bind "$R" "$R"`, `mount -o remount,bind,ro "$R"`] : []),
    `mount --rbind /proc "$R/proc"`,
    `mount --rbind /dev "$R/dev"`,
    `exec chroot "$R" /usr/bin/env -i ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")} /byok "$@"`
  ].join(" && ")
  return runBinary("unshare", ["-rm", "sh", "-c", script, "sh", ...args], { R: root })
}

describe.skipIf(!permitted)("a minimal root, as a distroless image", () => {
  test("binary, C library, /proc and /dev: --version and an answer from a loopback server", async () => {
    // env(1) is not in the root: copy it in for the launcher line above.
    mkdirSync(join(root, "usr", "bin"), { recursive: true })
    copyFileSync("/usr/bin/env", join(root, "usr", "bin", "env"))
    const version = await inRoot(["--version"])
    expect(version.stderr).toBe("")
    expect(version.stdout).toMatch(/^byok v\d+\.\d+\.\d+ \(/)
    const r = await inRoot(["exec", "--config", "/cfg/config.json", "hi"], { BYOK_HOME: "/data" })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("from a container\n")
    expect(readdirSync(join(root, "data"))).toContain("ledger.db")
    expect(readdirSync(join(root, "data"))).toContain("sessions.db")
  })

  test("no HOME: no // paths, one warning that nothing is recorded, and nothing written to /", async () => {
    const before = readdirSync(root).sort()
    const r = await inRoot(["exec", "--config", "/cfg/config.json", "hi"])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("from a container\n")
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning:"))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("nothing is recorded")
    expect(warnings[0]).toContain("BYOK_HOME")
    expect(r.stderr).not.toContain("//")
    expect(readdirSync(root).sort()).toEqual(before)
    const models = await inRoot(["models"])
    expect(models.stdout + models.stderr).not.toContain("//")
  })

  test("BYOK_NO_RECORD=1: no warning, nothing recorded", async () => {
    const r = await inRoot(["exec", "--config", "/cfg/config.json", "hi"], { BYOK_NO_RECORD: "1", HOME: "/nohome" })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe("")
    expect(r.stdout).toBe("from a container\n")
  })

  test("a read-only root still answers, with one warning", async () => {
    const r = await inRoot(["exec", "--config", "/cfg/config.json", "hi"], { HOME: "/home/user" }, true)
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("from a container\n")
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning:"))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("set BYOK_HOME to a writable directory")
  })
})
