// Proxies and private CAs with real parts from Debian, started here on loopback: tinyproxy as the proxy, and a TLS
// model server whose certificate comes from a CA this test makes with openssl. The compiled binary is run with
// the variables a user or a container would set. Skips with a message where tinyproxy or openssl is missing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { proxyFor, proxySettings } from "../src/lib/network.ts"
import { byokBinary } from "./lib/binary.ts"
import { answer } from "./lib/faults.ts"
import { CANARY } from "./lib/provider.ts"
import { runBinary } from "./lib/run.ts"

const has = (cmd: string) => Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0
const ready = has("tinyproxy") && has("openssl")
if (!ready) console.warn("network tests skipped: tinyproxy or openssl is not installed (.ci/run installs both)")

let bin: string
let dir: string
let tls: ReturnType<typeof Bun.serve> | undefined
let plain: ReturnType<typeof Bun.serve> | undefined
let proxy: ReturnType<typeof Bun.spawn> | undefined
let proxyPort = 0
let deadPort = 0
const seen: Array<string> = []

const freePort = () => {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  const port = s.port
  s.stop(true)
  return port
}

const sh = (cmd: string) => {
  const r = Bun.spawnSync(["sh", "-c", cmd], { cwd: dir, stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`${cmd}: ${r.stderr.toString()}`)
}

beforeAll(async () => {
  if (!ready) return
  bin = byokBinary()
  dir = mkdtempSync(join(tmpdir(), "byok-net-"))
  // A private CA, and a certificate it signs for 127.0.0.1.
  sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=byok test CA'")
  sh("openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1'")
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
  sh("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf")
  const serve = (path: string, headers: Headers) => {
    seen.push(`${path} via ${headers.get("via") ?? "direct"}`)
    return new Response(answer("generic-chat-completion-api", ["secure ", "hello"]), { headers: { "content-type": "text/event-stream" } })
  }
  tls = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: readFileSync(join(dir, "server.pem"), "utf8"), key: readFileSync(join(dir, "server.key"), "utf8") },
    fetch: (req) => (req.method === "POST" ? serve(new URL(req.url).pathname, req.headers) : new Response("", { status: 404 }))
  })
  plain = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      if (req.method === "POST") return serve(new URL(req.url).pathname, req.headers)
      seen.push(`GET ${new URL(req.url).pathname} via ${req.headers.get("via") ?? "direct"}`)
      return new Response("", { status: 404 })
    }
  })
  proxyPort = freePort()
  deadPort = freePort()
  writeFileSync(join(dir, "tinyproxy.conf"), [
    `Port ${proxyPort}`,
    "Listen 127.0.0.1",
    "Timeout 30",
    "Allow 127.0.0.1",
    `ConnectPort ${tls.port}`,
    "LogLevel Connect",
    `LogFile "${join(dir, "tinyproxy.log")}"`
  ].join("\n"))
  proxy = Bun.spawn(["tinyproxy", "-d", "-c", join(dir, "tinyproxy.conf")], { stdout: "ignore", stderr: "ignore" })
  for (let i = 0; i < 50; i++) {
    const up = await fetch(`http://127.0.0.1:${proxyPort}/`).then(() => true, () => false)
    if (up) break
    await Bun.sleep(50)
  }
  mkdirSync(join(dir, ".factory"))
  writeFileSync(join(dir, ".factory", "settings.json"), JSON.stringify({
    customModels: [
      { displayName: "Secure", model: "m", baseUrl: `https://127.0.0.1:${tls.port}/v1`, apiKey: CANARY, provider: "generic-chat-completion-api", maxOutputTokens: 50 },
      { displayName: "Plain", model: "m", baseUrl: `http://127.0.0.1:${plain.port}/v1`, apiKey: CANARY, provider: "generic-chat-completion-api", maxOutputTokens: 50 }
    ]
  }))
  mkdirSync(join(dir, ".config", "byok"), { recursive: true })
}, 60_000)

afterAll(() => {
  tls?.stop(true)
  plain?.stop(true)
  proxy?.kill()
})

const run = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const r = await runBinary(bin, args, {
    HOME: dir,
    BYOK_HOME: mkdtempSync(join(tmpdir(), "byok-data-")),
    BYOK_MAX_RETRIES: "0",
    ...env
  })
  expect(r.stdout + r.stderr).not.toContain(CANARY)
  return r
}
const proxyLog = () => readFileSync(join(dir, "tinyproxy.log"), "utf8")

describe.skipIf(!ready)("private CAs", () => {
  test("without the CA: byok's TLS message names NODE_EXTRA_CA_CERTS and caFile (exit 5)", async () => {
    const r = await run(["exec", "-m", "Secure", "hi"])
    expect(r.code).toBe(5)
    expect(r.stderr).toContain("TLS handshake")
    expect(r.stderr).toContain("NODE_EXTRA_CA_CERTS")
    expect(r.stderr).toContain(`"caFile"`)
  })

  test("NODE_EXTRA_CA_CERTS, or SSL_CERT_FILE: the answer comes", async () => {
    for (const name of ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"]) {
      const r = await run(["exec", "-m", "Secure", "hi"], { [name]: join(dir, "ca.pem") })
      expect(r.stderr).toBe("")
      expect(r.stdout).toBe("secure hello\n")
    }
  })

  test("caFile in the model's entry in byok's own file", async () => {
    const own = join(dir, "own.json")
    writeFileSync(own, JSON.stringify({
      customModels: [{ displayName: "Secure CA", model: "m", baseUrl: `https://127.0.0.1:${tls!.port}/v1`, apiKey: CANARY, provider: "generic-chat-completion-api", maxOutputTokens: 50, caFile: join(dir, "ca.pem") }]
    }))
    const r = await run(["exec", "--config", own, "hi"])
    expect(r.stderr).toBe("")
    expect(r.stdout).toBe("secure hello\n")
  })
})

describe.skipIf(!ready)("proxies (tinyproxy)", () => {
  test("HTTPS_PROXY carries an https request (CONNECT through tinyproxy), with the private CA", async () => {
    const before = proxyLog().length
    const r = await run(["exec", "-m", "Secure", "hi"], {
      HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
      NO_PROXY: "example.invalid",
      NODE_EXTRA_CA_CERTS: join(dir, "ca.pem")
    })
    expect(r.stdout).toBe("secure hello\n")
    expect(proxyLog().slice(before)).toContain(`CONNECT 127.0.0.1:${tls!.port}`)
  })

  test("lower-case http_proxy carries an http request; loopback goes direct when NO_PROXY is not set", async () => {
    seen.length = 0
    const via = await run(["exec", "-m", "Plain", "hi"], { http_proxy: `http://127.0.0.1:${proxyPort}`, no_proxy: "example.invalid" })
    expect(via.stdout).toBe("secure hello\n")
    expect(seen.at(-1)).toContain("tinyproxy")
    const direct = await run(["exec", "-m", "Plain", "hi"], { HTTP_PROXY: `http://127.0.0.1:${proxyPort}` })
    expect(direct.stdout).toBe("secure hello\n")
    expect(seen.at(-1)).toContain("via direct")
    const listed = await run(["exec", "-m", "Plain", "hi"], { HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: "localhost,127.0.0.1" })
    expect(listed.code).toBe(0)
    expect(seen.at(-1)).toContain("via direct")
  })

  test("a proxy that is not there: the message names the proxy and its variable, not the model server", async () => {
    const r = await run(["exec", "-m", "Plain", "hi"], { HTTP_PROXY: `http://user:pw-secret@127.0.0.1:${deadPort}`, NO_PROXY: "example.invalid" })
    expect(r.code).toBe(5)
    expect(r.stderr).toContain(`Cannot connect to the proxy http://***@127.0.0.1:${deadPort} (from HTTP_PROXY): connection refused`)
    expect(r.stderr).not.toContain("pw-secret")
    expect(r.stderr).toContain("NO_PROXY")
  })
})

describe.skipIf(!ready)("byok doctor goes the way exec goes", () => {
  test("through the proxy: its checks (GET /models) and its test request pass through tinyproxy", async () => {
    seen.length = 0
    const r = await run(["doctor", "-m", "Plain"], { HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: "example.invalid" })
    expect(r.stdout).toMatch(/✓ connect/)
    expect(r.stdout).toMatch(/✓ key +accepted/)
    expect(seen.filter((s) => s.startsWith("GET /v1/models"))).not.toHaveLength(0)
    for (const s of seen) expect(s).toContain("tinyproxy")
  })
  test("with the private CA (NODE_EXTRA_CA_CERTS), through HTTPS_PROXY", async () => {
    const r = await run(["doctor", "-m", "Secure"], {
      HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
      NO_PROXY: "example.invalid",
      NODE_EXTRA_CA_CERTS: join(dir, "ca.pem")
    })
    expect(r.stdout).toMatch(/✓ connect .*\(TLS ok\)/)
    expect(r.stdout).toMatch(/✓ key +accepted/)
  })
  test("an MCP server over HTTP is reached through the proxy too (HTTP_PROXY, with NO_PROXY set so loopback is not exempt)", async () => {
    const via: Array<string> = []
    const mcp = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        via.push(req.headers.get("via") ?? "direct")
        if (req.method !== "POST") return new Response(null, { status: 405 })
        const body = await req.json() as { id?: number; method: string }
        if (body.id === undefined) return new Response(null, { status: 202 })
        const result = body.method === "initialize"
          ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "p", version: "1" } }
          : { tools: [{ name: "proxied_tool", inputSchema: { type: "object" } }] }
        return Response.json({ jsonrpc: "2.0", id: body.id, result })
      }
    })
    try {
      const home = mkdtempSync(join(tmpdir(), "byok-mcp-proxy-"))
      mkdirSync(join(home, ".factory"))
      writeFileSync(join(home, ".factory", "settings.json"), readFileSync(join(dir, ".factory", "settings.json")))
      writeFileSync(join(home, ".factory", "mcp.json"), JSON.stringify({ mcpServers: { web: { type: "http", url: `http://127.0.0.1:${mcp.port}/mcp` } } }))
      const r = await run(["mcp", "get", "web"], { HOME: home, HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: "example.invalid" })
      expect(r.code).toBe(0)
      expect(r.stdout).toContain("proxied_tool")
      expect(via.length).toBeGreaterThan(0)
      for (const v of via) expect(v).toContain("tinyproxy")
    } finally {
      mcp.stop(true)
    }
  })

  test("a proxy that is not there: the doctor names it, as exec does", async () => {
    const r = await run(["doctor", "-m", "Plain"], { HTTP_PROXY: `http://127.0.0.1:${deadPort}`, NO_PROXY: "example.invalid" })
    expect(r.code).toBe(5)
    expect(r.stdout).toContain(`Cannot connect to the proxy http://127.0.0.1:${deadPort} (from HTTP_PROXY)`)
  })
})

test("NO_PROXY matching: names and their subdomains, leading dots, ports, *, loopback", () => {
  const s = (env: Record<string, string>) => proxySettings(env)
  const url = (u: string) => new URL(u)
  const p = "http://proxy:3128"
  expect(proxyFor(s({ HTTPS_PROXY: p }), url("https://api.openai.com/v1"))).toBe(p)
  expect(proxyFor(s({ HTTPS_PROXY: p }), url("http://api.openai.com/v1"))).toBeUndefined()
  expect(proxyFor(s({ HTTPS_PROXY: p }), url("https://localhost:8443"))).toBeUndefined()
  expect(proxyFor(s({ HTTPS_PROXY: p, NO_PROXY: "" }), url("https://127.0.0.1:8443"))).toBe(p)
  expect(proxyFor(s({ HTTPS_PROXY: p, NO_PROXY: "openai.com" }), url("https://api.openai.com/v1"))).toBeUndefined()
  expect(proxyFor(s({ HTTPS_PROXY: p, NO_PROXY: ".openai.com" }), url("https://api.openai.com/v1"))).toBeUndefined()
  expect(proxyFor(s({ HTTPS_PROXY: p, NO_PROXY: "openai.com:8443" }), url("https://api.openai.com/v1"))).toBe(p)
  expect(proxyFor(s({ HTTPS_PROXY: p, no_proxy: "*" }), url("https://api.openai.com/v1"))).toBeUndefined()
  expect(proxyFor(s({ HTTPS_PROXY: p, NO_PROXY: "notopenai.com" }), url("https://api.openai.com/v1"))).toBe(p)
  expect(proxyFor(s({ https_proxy: "http://lower:1", HTTPS_PROXY: p }), url("https://x.dev"))).toBe("http://lower:1")
})
