// The sandbox (src/sandbox/): policies per level, Landlock rules carved around secret places, the Seatbelt profile's
// text, the scrubbed environment, the protected workspace places put back, and, on this kernel, Landlock and seccomp
// for real: a write outside refused with EACCES, a secret unreadable, a socket refused, another process's
// environment unreadable, no capability kept by root.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { spawnSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { homedir } from "node:os"
import { join } from "node:path"
import { referencedNames, scrubEnv } from "../src/sandbox/env.ts"
import { FS, handledFs, rulesFor } from "../src/sandbox/linux.ts"
import { profileOf } from "../src/sandbox/macos.ts"
import { DEFAULT_SETTINGS, type Place, policyFor } from "../src/sandbox/policy.ts"
import { restore, snapshot } from "../src/sandbox/protect.ts"
import { detect, make, refusalNote, type Sandbox } from "../src/sandbox/sandbox.ts"

/** Scratch folders outside /tmp (medium may write /tmp): below the real home of whoever runs the tests. */
const base = mkdtempSync(join(homedir(), ".byok-sandbox-test-"))
afterAll(() => rmSync(base, { recursive: true, force: true }))
const scratch = (name: string) => {
  const dir = join(base, name)
  mkdirSync(dir, { recursive: true })
  return dir
}

const place = (over: Partial<Place> = {}): Place => ({
  home: "/home/u",
  cwd: "/home/u/project",
  secretFiles: ["/run/secrets/key"],
  tmpdir: "/tmp/byok-sandbox-x",
  sharedTmp: "/tmp",
  ...over
})

describe("policies", () => {
  test("off writes nothing but /dev/null and has no network; low the workspace and a private TMPDIR; medium adds /tmp, the caches and the network", () => {
    const off = policyFor("off", DEFAULT_SETTINGS, place())
    expect(off.write).toEqual(["/dev/null"])
    expect(off.network).toBe(false)
    const low = policyFor("low", DEFAULT_SETTINGS, place())
    expect(low.write).toEqual(["/home/u/project", "/tmp/byok-sandbox-x", "/dev/null"])
    expect(low.network).toBe(false)
    expect(low.protect).toEqual(["/home/u/project/.git/config", "/home/u/project/.git/hooks", "/home/u/project/.factory"])
    const medium = policyFor("medium", { mode: "auto", writableRoots: ["~/extra", "build-out"] }, place())
    expect(medium.write).toContain("/tmp")
    expect(medium.write).toContain("/home/u/.npm")
    expect(medium.write).toContain("/home/u/.cache")
    expect(medium.write).toContain("/home/u/extra")
    expect(medium.write).toContain("/home/u/project/build-out")
    expect(medium.network).toBe(true)
    for (const p of [off, low, medium]) {
      expect(p.secret).toContain("/home/u/.factory")
      expect(p.secret).toContain("/home/u/.ssh")
      expect(p.secret).toContain("/run/secrets/key")
    }
  })

  test("the Seatbelt profile denies by default, allows writing the roots, and denies the secret and protected places after", () => {
    const profile = profileOf(policyFor("low", DEFAULT_SETTINGS, place({ cwd: "/Users/u/my \"proj\"" })))
    expect(profile.startsWith("(version 1)\n(deny default)\n")).toBe(true)
    expect(profile).toContain("(allow file-write* (subpath \"/Users/u/my \\\"proj\\\"\") (subpath \"/tmp/byok-sandbox-x\") (literal \"/dev/null\"))")
    expect(profile).toContain("(deny file-write* (subpath \"/Users/u/my \\\"proj\\\"/.git/config\")")
    expect(profile).toMatch(/\(deny file-read\* file-write\* [^\n]*\(subpath "\/home\/u\/\.ssh"\)/)
    expect(profile.indexOf("(deny file-read*")).toBeGreaterThan(profile.indexOf("(allow file-read*)"))
    expect(profile).toContain("(allow network* (remote unix-socket))")
    expect(profileOf(policyFor("medium", DEFAULT_SETTINGS, place()))).toContain("(allow network*)\n")
  })
})

describe("Landlock rules", () => {
  test("a secret place is carved out: its ancestors may be listed only, their other children read, and no rule reaches it", () => {
    const home = scratch("carve-home")
    for (const d of [".ssh", ".config/gh", ".config/other", "code"]) mkdirSync(join(home, d), { recursive: true })
    writeFileSync(join(home, ".ssh", "id"), "k")
    writeFileSync(join(home, ".bashrc"), "")
    symlinkSync(join(home, ".ssh"), join(home, "sneaky")) // a link to a secret is not a way in
    const cwd = join(home, "code")
    const rules = rulesFor(policyFor("low", DEFAULT_SETTINGS, { ...place(), home, cwd, tmpdir: scratch("t1") }), 7)
    const by = new Map(rules.map((r) => [r.path, r.access]))
    expect(by.get("/")).toBe(FS.READ_DIR)
    expect(by.get(home)).toBe(FS.READ_DIR)
    expect(by.get(join(home, ".config"))).toBe(FS.READ_DIR)
    expect(by.get(join(home, ".config/other"))! & FS.READ_FILE).toBeTruthy()
    expect(by.get(join(home, ".bashrc"))! & FS.READ_FILE).toBeTruthy()
    // a file's rule holds file rights only
    expect(by.get(join(home, ".bashrc"))! & FS.READ_DIR).toBe(0)
    for (const r of rules) {
      expect(r.path === join(home, ".ssh") || r.path.startsWith(join(home, ".ssh/"))).toBe(false)
      expect(r.path === join(home, ".config/gh")).toBe(false)
    }
    expect(by.get(cwd)).toBe(handledFs(7))
    expect(by.get("/dev/null")).toBe(handledFs(7) & (FS.EXECUTE | FS.WRITE_FILE | FS.READ_FILE | FS.TRUNCATE | FS.IOCTL_DEV))
  })
})

describe("Landlock rules in a crowded folder", () => {
  test("a home inside a folder of thousands of entries costs a rule for the way to it, not one per entry", () => {
    const crowd = scratch("crowd")
    for (let i = 0; i < 600; i++) mkdirSync(join(crowd, `d${i}`))
    const home = join(crowd, "home")
    mkdirSync(join(home, ".ssh"), { recursive: true })
    const rules = rulesFor(policyFor("low", DEFAULT_SETTINGS, { ...place(), home, cwd: scratch("crowd-work"), tmpdir: scratch("t2") }), 7)
    expect(rules.filter((r) => r.path.startsWith(`${crowd}/`)).length).toBeLessThan(50)
    expect(rules.some((r) => r.path === join(crowd, "d1"))).toBe(false)
    expect(rules.find((r) => r.path === crowd)?.access).toBe(FS.READ_DIR)
  })
})

describe("the environment of commands", () => {
  test("no variable that may hold a secret: by its name, a config's reference, a known key's value, an agent's socket; include passes named ones", () => {
    const env = {
      PATH: "/usr/bin", HOME: "/home/u", OPENAI_API_KEY: "sk-x", GITHUB_TOKEN: "t", MY_SECRET: "s", DB_PASSWORD: "p",
      AWS_CREDENTIALS: "c", MODEL_URL_VAR: "https://x", INNOCENT: "sk-the-configured-key-123", SSH_AUTH_SOCK: "/run/agent",
      NPM_TOKEN: "n"
    }
    const { env: kept, dropped } = scrubEnv(env, {
      referenced: new Set(["MODEL_URL_VAR"]),
      include: ["NPM_TOKEN"],
      holdsSecret: (v) => v.includes("sk-the-configured-key")
    })
    expect(kept).toEqual({ PATH: "/usr/bin", HOME: "/home/u", NPM_TOKEN: "n" })
    expect(dropped).toEqual(["AWS_CREDENTIALS", "DB_PASSWORD", "GITHUB_TOKEN", "INNOCENT", "MODEL_URL_VAR", "MY_SECRET", "OPENAI_API_KEY", "SSH_AUTH_SOCK"])
    // A collector's credentials, whose variable names none of the words.
    expect(scrubEnv({ OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc", OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x=y", OTEL_SERVICE_NAME: "byok" }, { referenced: new Set(), include: [], holdsSecret: () => false }))
      .toEqual({ env: { OTEL_SERVICE_NAME: "byok" }, dropped: ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] })
    expect(referencedNames('{"apiKey": "${OPENAI_KEY}", "b": "${file:/x}", "c": "${OTHER}"}')).toEqual(["OPENAI_KEY", "OTHER"])
  })
})

describe("protected places", () => {
  const repo = () => {
    const cwd = mkdtempSync(join(base, "repo-"))
    mkdirSync(join(cwd, ".git/hooks"), { recursive: true })
    writeFileSync(join(cwd, ".git/config"), "[core]\n")
    writeFileSync(join(cwd, ".git/hooks/pre-commit.sample"), "#!/bin/sh\n")
    mkdirSync(join(cwd, ".factory"))
    writeFileSync(join(cwd, ".factory/settings.json"), "{}")
    return cwd
  }
  const places = (cwd: string) => [".git/config", ".git/hooks", ".factory"].map((p) => join(cwd, p))

  test("a changed config, a planted hook, a new mcp.json and a removed file are put back, and said", () => {
    const cwd = repo()
    const before = snapshot(cwd, places(cwd))
    writeFileSync(join(cwd, ".git/config"), "[core]\n\tfsmonitor = evil\n")
    writeFileSync(join(cwd, ".git/hooks/pre-commit"), "#!/bin/sh\nevil\n")
    chmodSync(join(cwd, ".git/hooks/pre-commit"), 0o755)
    writeFileSync(join(cwd, ".factory/mcp.json"), "{}")
    rmSync(join(cwd, ".factory/settings.json"))
    const undone = restore(before)
    expect(readFileSync(join(cwd, ".git/config"), "utf8")).toBe("[core]\n")
    expect(existsSync(join(cwd, ".git/hooks/pre-commit"))).toBe(false)
    expect(existsSync(join(cwd, ".factory/mcp.json"))).toBe(false)
    expect(readFileSync(join(cwd, ".factory/settings.json"), "utf8")).toBe("{}")
    expect(undone).toContain(".git/config (changed)")
    expect(undone).toContain(".git/hooks/pre-commit (added)")
    expect(undone).toContain(".factory/settings.json (removed)")
    expect(restore(snapshot(cwd, places(cwd)))).toEqual([])
  })

  test("a .git that became a gitdir: file pointing elsewhere is moved aside; a repository the command made keeps its config, not its hooks", () => {
    const cwd = repo()
    const before = snapshot(cwd, places(cwd))
    rmSync(join(cwd, ".git"), { recursive: true })
    writeFileSync(join(cwd, ".git"), "gitdir: /elsewhere/evil\n")
    const undone = restore(before)
    expect(undone.some((u) => u.startsWith(".git (it had become a file"))).toBe(true)
    expect(readFileSync(join(cwd, ".git/config"), "utf8")).toBe("[core]\n")
    const fresh = mkdtempSync(join(base, "fresh-"))
    const none = snapshot(fresh, places(fresh))
    mkdirSync(join(fresh, ".git/hooks"), { recursive: true })
    writeFileSync(join(fresh, ".git/config"), "[core]\n")
    writeFileSync(join(fresh, ".git/hooks/update.sample"), "")
    writeFileSync(join(fresh, ".git/hooks/post-checkout"), "evil")
    expect(restore(none)).toEqual([".git/hooks/post-checkout (added)"])
    expect(existsSync(join(fresh, ".git/config"))).toBe(true)
    expect(existsSync(join(fresh, ".git/hooks/update.sample"))).toBe(true)
  })
})

// ---- the real thing ------------------------------------------------------------------------------------------------

const status = await detect()
const landlock = status.kind === "landlock"
if (!landlock) console.log(`sandbox.test.ts: no Landlock here (${status.why}); the kernel tests are skipped`)

describe.skipIf(!landlock)("Landlock and seccomp on this kernel", () => {
  let home: string
  let cwd: string
  let outside: string
  let sandbox: Sandbox
  let listener: Server
  let port: number
  let connections = 0
  beforeAll(async () => {
    home = scratch("home")
    cwd = scratch("home/work")
    outside = scratch("outside")
    mkdirSync(join(home, ".factory"), { recursive: true })
    writeFileSync(join(home, ".factory/settings.json"), "{\"apiKey\": \"canary\"}")
    writeFileSync(join(outside, "secret.txt"), "the ${file:} secret")
    writeFileSync(join(cwd, "a.txt"), "hello\n")
    sandbox = make({
      settings: DEFAULT_SETTINGS,
      source: "test",
      status,
      home,
      secretFiles: [join(outside, "secret.txt")],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, MARK: "inherited" },
      dropped: []
    })
    listener = createServer((s) => {
      connections++
      s.end()
    })
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r))
    port = (listener.address() as { port: number }).port
  })
  afterAll(() => listener?.close())

  const sh = (command: string, level: "off" | "low" | "medium" | "high", box = sandbox) => {
    const l = box.launch(["/bin/sh", "-c", command], level, cwd)
    if ("refused" in l) throw new Error(l.refused)
    const r = spawnSync(l.file, [...l.args], { cwd, env: { ...l.env }, encoding: "utf8", timeout: 20_000, ...(l.input !== undefined ? { input: l.input } : {}) })
    return { code: r.status, out: `${r.stdout}${r.stderr}`, policy: l.policy }
  }

  test("writes: none at off, the workspace and TMPDIR at low; outside refused with EACCES at every level below high", () => {
    const off = sh(`echo x > f-off.txt; echo x > ${outside}/f-off`, "off")
    expect(off.out).toContain("Permission denied")
    expect(existsSync(join(cwd, "f-off.txt"))).toBe(false)
    const low = sh(`echo x > f-low.txt && echo y > "$TMPDIR/t" && cat "$TMPDIR/t"; echo z > ${outside}/f-low; echo z > /tmp/byok-low-$$`, "low")
    expect(readFileSync(join(cwd, "f-low.txt"), "utf8")).toBe("x\n")
    expect(low.out).toContain("y\n")
    expect(low.out).toContain(`${outside}/f-low: Permission denied`)
    expect(low.out).toMatch(/byok-low-\d+: Permission denied/)
    const medium = sh(`echo z > ${outside}/f-medium; f=$(mktemp /tmp/byok-medium-XXXX) && echo ok && rm "$f"`, "medium")
    expect(medium.out).toContain("Permission denied")
    expect(medium.out).toContain("ok")
    expect(existsSync(join(outside, "f-low")) || existsSync(join(outside, "f-off")) || existsSync(join(outside, "f-medium"))).toBe(false)
    expect(refusalNote(low.out, low.policy!)).toContain("only in the working directory and $TMPDIR")
  })

  test("secret places are unreadable: ~/.factory and a ${file:} the config names; other files read", () => {
    for (const level of ["off", "low", "medium"] as const) {
      const r = sh(`cat ${home}/.factory/settings.json; cat ${outside}/secret.txt; cat a.txt`, level)
      expect(r.out).not.toContain("canary")
      expect(r.out).not.toContain("the ${file:} secret")
      expect(r.out).toContain("hello")
    }
  })

  test("the network: no socket at off and low (seccomp; socketpair stays), a loopback connection at medium", () => {
    const connect = `python3 -c "import socket; s=socket.create_connection(('127.0.0.1', ${port}), 2); print('connected')"`
    const before = connections
    for (const level of ["off", "low"] as const) {
      const r = sh(connect, level)
      expect(r.out).toContain("Operation not permitted")
      expect(r.out).not.toContain("connected")
      const unix = sh(`python3 -c "import socket; a,b=socket.socketpair(); a.send(b'x'); print(b.recv(1))"`, level)
      expect(unix.out).toContain("b'x'")
    }
    expect(connections).toBe(before)
    expect(sh(connect, "medium").out).toContain("connected")
  })

  test("a Unix socket outside (a tmux, a user bus, docker.sock) cannot be reached without the network: off and low, and offline at any level", async () => {
    // A server outside the sandbox that would run what it is sent (tmux send-keys, systemd-run --user): reaching it
    // is writing outside the working directory by another hand.
    const path = join(outside, "server.sock")
    let reached = 0
    const server = createServer((s) => {
      reached++
      s.end()
    })
    await new Promise<void>((r) => server.listen(path, r))
    try {
      const connect = `python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('${path}'); print('connected')"`
      const offline = make({ settings: { ...DEFAULT_SETTINGS, offline: true }, source: "test", status, home, secretFiles: [], env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home }, dropped: [] })
      for (const level of ["off", "low"] as const) {
        const r = sh(connect, level)
        expect(r.out).not.toContain("connected")
        expect(r.out).toContain("Operation not permitted")
      }
      for (const level of ["medium", "high"] as const) expect(sh(connect, level, offline).out).toContain("Operation not permitted")
      await Bun.sleep(50)
      expect(reached).toBe(0)
      // The test can fail: at medium, with the network, the same command connects (documented, as in codex).
      expect(sh(connect, "medium").out).toContain("connected")
      await Bun.sleep(50)
      expect(reached).toBe(1)
    } finally {
      server.close()
    }
  })

  test("another process's environment and signals are out of reach; root keeps no capability; SIGPIPE acts as usual", () => {
    const r = sh("cat /proc/$PPID/environ; kill -0 $PPID && echo signalled; grep CapEff /proc/self/status; yes | head -1", "low")
    expect(r.out).not.toContain("PATH=")
    expect(r.out).not.toContain("signalled")
    expect(r.out).toContain("CapEff:\t0000000000000000")
    expect(r.out).toContain("y\n")
    // and the variables it was given
    expect(sh("echo $MARK", "low").out).toBe("inherited\n")
  })

  test("at high, no sandbox unless sandbox: always; with it, medium's policy", () => {
    expect(sh(`echo x > ${outside}/f-high`, "high").code).toBe(0)
    const always = make({ ...{ settings: { mode: "always", writableRoots: [] }, source: "test", status, home, secretFiles: [], env: {}, dropped: [] } })
    const l = always.launch(["/bin/sh", "-c", "true"], "high", cwd)
    expect("refused" in l ? undefined : l.policy?.network).toBe(true)
  })

  test("where there is no sandbox, required refuses and auto runs unsandboxed, each said", () => {
    const none = { kind: "none" as const, abi: 0, network: false, why: "no Landlock" }
    const required = make({ settings: { mode: "required", writableRoots: [] }, source: "settings.json", status: none, home, secretFiles: [], env: {}, dropped: [] })
    const l = required.launch(["/bin/sh", "-c", "true"], "low", cwd)
    expect("refused" in l && l.refused).toContain('settings.json says sandbox: "required", and no Landlock')
    expect(required.notice("low")).toContain("will not run")
    const auto = make({ settings: DEFAULT_SETTINGS, source: "x", status: none, home, secretFiles: [], env: {}, dropped: [] })
    expect(auto.notice("medium")).toBe("commands run unsandboxed (no Landlock): byok checks them by their words only")
    expect(auto.notice("high")).toBeUndefined()
  })
})

