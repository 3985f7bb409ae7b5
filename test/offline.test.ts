// Offline mode (issue 28), from the compiled binary: a model, MCP server, collector or proxy that is not loopback
// or private is refused before any DNS lookup, with an error that names it; strace shows the run connecting to
// nothing but loopback and asking no DNS; the sandbox gives commands no network, high included. Remote hosts are
// names under .invalid (RFC 6761): a byok with the check broken would send nothing beyond a failed lookup.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { offlineAllows, setOffline } from "../src/lib/offline.ts"
import { DEFAULT_SETTINGS, policyFor, sandboxed } from "../src/sandbox/policy.ts"
import { byokBinary } from "./lib/binary.ts"
import { runBinary } from "./lib/run.ts"
import { answer } from "./lib/faults.ts"
import { fakeModel, homeWithModels } from "./lib/home.ts"
import { CANARY } from "./lib/provider.ts"
import { scripted } from "./lib/scripted.ts"
import { type FakeServer, startServer } from "./lib/server.ts"

let bin: string
let model: FakeServer
let root: string

beforeAll(() => {
  bin = byokBinary()
  model = startServer()
  root = mkdtempSync(join(tmpdir(), "byok-offline-"))
}, 60_000)

afterAll(() => {
  model?.stop()
  rmSync(root, { recursive: true, force: true })
})

const REMOTE = "api.example.invalid"

const run = (args: ReadonlyArray<string>, home: string, env: Record<string, string> = {}, wrap: ReadonlyArray<string> = [], cwd = root) =>
  wrap.length === 0
    ? runBinary(bin, args, { HOME: home, BYOK_HOME: join(home, "data"), BYOK_MAX_RETRIES: "0", ...env }, undefined, cwd)
    : runBinary(wrap[0]!, [...wrap.slice(1), bin, ...args], { HOME: home, BYOK_HOME: join(home, "data"), BYOK_MAX_RETRIES: "0", ...env }, undefined, cwd)

const home = (settings: Record<string, unknown> = {}) =>
  homeWithModels([
    fakeModel("Remote", "anthropic", "claude-sonnet-4-5", `https://${REMOTE}`),
    fakeModel("Local", "generic-chat-completion-api", "llama", `${model.url}/v1`)
  ], settings)

/** The connections and datagrams a traced run made, as strace wrote them. */
const traced = (file: string) => {
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => /connect\(|sendto\(|sendmsg\(/.test(l))
  const inet = lines.filter((l) => /sa_family=AF_INET6?/.test(l))
  const elsewhere = inet.filter((l) => !/inet_addr\("127\.|inet_pton\(AF_INET6, "::1"|inet_pton\(AF_INET6, "::ffff:127\./.test(l))
  const dns = lines.filter((l) => /htons\(53\)|\\7invalid|example\.invalid/.test(l))
  return { inet, elsewhere, dns }
}

describe("offline mode", () => {
  test("a remote model is refused before any lookup: the error names it and the switch; strace shows no DNS, nothing but loopback", async () => {
    const trace = join(root, "remote.strace")
    const r = await run(["exec", "--offline", "-m", "Remote", "hi"], home(), {}, ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", trace])
    expect(r.code).toBe(5)
    expect(r.stderr).toContain(`Offline mode is on: byok does not contact ${REMOTE}`)
    expect(r.stderr).toContain("--offline")
    expect(r.stderr).not.toContain(CANARY)
    const t = traced(trace)
    expect(t.dns).toEqual([])
    expect(t.elsewhere).toEqual([])
  }, 60_000)

  test("a local model answers offline; strace shows its loopback connection and nothing else", async () => {
    model.handle(() => new Response(answer("generic-chat-completion-api", ["local ", "answer"]), { headers: { "content-type": "text/event-stream" } }))
    const trace = join(root, "local.strace")
    const r = await run(["exec", "-m", "Local", "hi"], home(), { BYOK_OFFLINE: "1" }, ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", trace])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("local answer\n")
    const t = traced(trace)
    // The check can fail: the loopback connection to the fake is seen.
    expect(t.inet.some((l) => l.includes(`htons(${new URL(model.url).port})`))).toBe(true)
    expect(t.elsewhere).toEqual([])
    expect(t.dns).toEqual([])
  }, 60_000)

  test("settings.json's offline: a fallback to a local model answers; a collector elsewhere is refused and said", async () => {
    model.handle(() => new Response(answer("generic-chat-completion-api", ["from ", "local"]), { headers: { "content-type": "text/event-stream" } }))
    const r = await run(["exec", "-m", "Remote", "--fallback-model", "Local", "hi"], home({ offline: true }), {
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example.invalid"
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("from local\n")
    expect(r.stderr).toContain("Local answers instead")
    expect(r.stderr).toContain("telemetry: offline mode is on")
    expect(r.stderr).toContain("otel.example.invalid is not a loopback or private address")
    expect(r.stderr).toContain("traces, metrics, logs are not exported")
  }, 60_000)

  test("a remote MCP server is refused; a proxy elsewhere is refused even for a private address", async () => {
    const h = home()
    writeFileSync(join(h, ".factory", "mcp.json"), JSON.stringify({ mcpServers: { far: { type: "http", url: "https://mcp.example.invalid/mcp" } } }))
    const listed = await run(["mcp", "get", "far"], h, { BYOK_OFFLINE: "1" })
    expect(listed.code).toBe(1)
    expect(listed.stdout + listed.stderr).toContain("offline mode is on (BYOK_OFFLINE): mcp.example.invalid is not a loopback or private address")
    // A model on a private address is allowed, but not through a proxy that is not.
    const proxied = homeWithModels([fakeModel("Lan", "generic-chat-completion-api", "llama", "http://10.0.0.7:8080/v1")])
    const r = await run(["exec", "--offline", "-m", "Lan", "hi"], proxied, { HTTP_PROXY: "http://proxy.example.invalid:3128", NO_PROXY: "" })
    expect(r.code).toBe(5)
    expect(r.stderr).toContain("the proxy proxy.example.invalid:3128 is not a loopback or private address")
  }, 60_000)

  test("Execute has no network offline, even at high; without offline the same command connects (the test can fail)", async () => {
    let connections = 0
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: () => void connections++, data: () => {} } })
    try {
      const command = `bash -c 'echo hi > /dev/tcp/127.0.0.1/${listener.port}' && echo connected || echo refused`
      const play = () => {
        const script = scripted("generic-chat-completion-api", [{ name: "Execute", args: { command } }], "done")
        model.handle(script.handler)
        return script
      }
      let script = play()
      const offline = await run(["exec", "--offline", "--auto", "high", "-m", "Local", "try"], home())
      expect(offline.code).toBe(0)
      expect(script.seen[1]?.[0]?.output).toContain("refused")
      expect(connections).toBe(0)
      script = play()
      const online = await run(["exec", "--auto", "high", "-m", "Local", "try"], home())
      expect(online.code).toBe(0)
      expect(script.seen[1]?.[0]?.output).toContain("connected")
      expect(connections).toBe(1)
    } finally {
      listener.stop(true)
    }
  }, 60_000)

  test("a project may turn offline on, not off; offlineHosts lets a named host through", async () => {
    const h = home({ offline: true })
    const project = join(root, "proj")
    mkdirSync(join(project, ".factory"), { recursive: true })
    writeFileSync(join(project, ".factory", "settings.json"), JSON.stringify({ offline: false }))
    const trust = await run(["trust", project], h)
    expect(trust.code).toBe(0)
    const { stderr, code } = await run(["exec", "-m", "Remote", "hi"], h, {}, [], project)
    expect(code).toBe(5)
    expect(stderr).toContain("a project file may turn offline mode on, not off")
    expect(stderr).toContain("Offline mode is on")
    // A name the user says is local (under .invalid, so that the lookup it is now allowed fails at once).
    const doctor = await run(["doctor", "--offline"], homeWithModels([fakeModel("Box", "generic-chat-completion-api", "m", "http://gpu-box.invalid:8080/v1")], { offlineHosts: ["gpu-box.invalid"] }))
    expect(doctor.stdout).toMatch(/model Box\s+gpu-box\.invalid:8080: local/)
    expect(doctor.stdout).toContain("Cannot resolve host")
  }, 60_000)

  test("doctor --offline lists what would be refused", async () => {
    model.handle(() => new Response(answer("generic-chat-completion-api", ["ok"]), { headers: { "content-type": "text/event-stream" } }))
    const r = await run(["doctor", "--offline"], home(), { HTTPS_PROXY: "http://proxy.example.invalid:3128", OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example.invalid" })
    expect(r.stdout).toContain("Offline")
    expect(r.stdout).toMatch(/model Remote\s+api\.example\.invalid: refused/)
    expect(r.stdout).toMatch(/model Local\s+127\.0\.0\.1:\d+: local/)
    expect(r.stdout).toMatch(/telemetry traces\s+otel\.example\.invalid: refused/)
    expect(r.stdout).toMatch(/https proxy\s+http:\/\/proxy\.example\.invalid:3128: refused/)
  }, 60_000)
})

describe("the sandbox's policy offline", () => {
  test("no network at any level; high is sandboxed, with its freedom over files; without offline, medium and high reach the network", () => {
    const place = { home: "/home/u", cwd: "/work", secretFiles: [], tmpdir: "/tmp/own", sharedTmp: "/tmp" }
    const offline = { ...DEFAULT_SETTINGS, offline: true }
    for (const level of ["off", "low", "medium", "high"] as const) {
      expect(sandboxed(level, offline)).toBe(true)
      expect(policyFor(level, offline, place).network).toBe(false)
    }
    expect(policyFor("high", offline, place).write).toEqual(["/"])
    expect(sandboxed("high", { ...offline, mode: "off" })).toBe(true)
    expect(policyFor("medium", DEFAULT_SETTINGS, place).network).toBe(true)
    expect(sandboxed("high", DEFAULT_SETTINGS)).toBe(false)
  })
})

describe("a page for a person, offline", () => {
  test("the browser is not opened on a page elsewhere (it would contact it); a local page opens", async () => {
    const { openBrowser } = await import("../src/mcp/oauth.ts")
    const marker = join(root, "opened.txt")
    const browser = join(root, "browser.sh")
    writeFileSync(browser, `#!/bin/sh\necho "$1" >> ${marker}\n`, { mode: 0o755 })
    const saved = process.env["BROWSER"]
    process.env["BROWSER"] = browser
    const told: Array<string> = []
    try {
      setOffline({ on: true, source: "--offline", hosts: [] })
      expect(openBrowser("https://auth.example.invalid/authorize", (t) => told.push(t))).toContain("auth.example.invalid is not a loopback or private address")
      expect(openBrowser("http://127.0.0.1:9/callback", (t) => told.push(t))).toBeUndefined()
      await Bun.sleep(300)
      expect(readFileSync(marker, "utf8")).toBe("http://127.0.0.1:9/callback\n")
      expect(told[0]).toContain("Not opened: offline mode is on (--offline)")
    } finally {
      setOffline({ on: false, source: "", hosts: [] })
      if (saved === undefined) delete process.env["BROWSER"]
      else process.env["BROWSER"] = saved
    }
  })
})

describe("offlineAllows", () => {
  test("loopback, private and link-local addresses, localhost, and the user's names; nothing else", () => {
    for (const h of ["127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.1.1", "::1", "[::1]", "fd00::1", "fc12:3::4", "fe80::1", "::ffff:10.0.0.1", "localhost", "LOCALHOST.", "app.localhost"]) {
      expect(offlineAllows(h, [])).toBe(true)
    }
    for (const h of ["8.8.8.8", "172.32.0.1", "172.15.0.1", "192.169.0.1", "1.127.0.0", "256.0.0.1", "2001:db8::1", "::ffff:8.8.8.8", "example.com", "printer.local", "host.docker.internal", "localhost.example.com", "10.0.0.1.nip.io"]) {
      expect(offlineAllows(h, [])).toBe(false)
    }
    expect(offlineAllows("gpu-box.lan", ["gpu-box.lan"])).toBe(true)
  })
})
