// MCP's OAuth login against a fake authorization server and protected MCP server on loopback: discovery from the
// 401's challenge, client registration, PKCE, the resource parameter, the token kept privately and never shown,
// refresh before expiry, and logout. The official conformance suite (test/conformance) covers the variants; these
// are the properties byok promises of its own.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createHash } from "node:crypto"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { byokBinary } from "./lib/binary.ts"
import { homeWithModels, oneModelPerFormat } from "./lib/home.ts"
import { CANARY } from "./lib/provider.ts"

const ACCESS = "oauth-access-canary-41c9e2"
const REFRESHED = "oauth-refreshed-canary-77ab10"
const REFRESH = "oauth-refresh-canary-0d3f88"
const BROWSER = `${resolve("node_modules/.bin/bun")} ${resolve("test/conformance/browser.ts")}`

interface Seen {
  registered: number
  authorize: Array<URLSearchParams>
  token: Array<URLSearchParams>
  bearer: Array<string>
}

/** One origin serving the protected MCP endpoint, its metadata, and the authorization server. */
const startProtected = (options: { readonly expiresIn: number; readonly resourcePath?: string }) => {
  const seen: Seen = { registered: 0, authorize: [], token: [], bearer: [] }
  const challenges = new Map<string, string>()
  let live = new Set<string>()
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url)
      const origin = url.origin
      const json = (value: unknown, status = 200) => Response.json(value, { status })
      if (url.pathname === "/.well-known/oauth-protected-resource/mcp") {
        return json({ resource: `${origin}${options.resourcePath ?? "/mcp"}`, authorization_servers: [origin], scopes_supported: ["tools"] })
      }
      if (url.pathname === "/.well-known/oauth-authorization-server") {
        return json({
          issuer: origin,
          authorization_endpoint: `${origin}/authorize`,
          token_endpoint: `${origin}/token`,
          registration_endpoint: `${origin}/register`,
          code_challenge_methods_supported: ["S256"],
          token_endpoint_auth_methods_supported: ["none"]
        })
      }
      if (url.pathname === "/register") {
        seen.registered++
        return json({ client_id: "client-1", token_endpoint_auth_method: "none" }, 201)
      }
      if (url.pathname === "/authorize") {
        seen.authorize.push(url.searchParams)
        const code = `code-${seen.authorize.length}`
        challenges.set(code, url.searchParams.get("code_challenge") ?? "")
        const back = new URL(url.searchParams.get("redirect_uri")!)
        back.searchParams.set("code", code)
        back.searchParams.set("state", url.searchParams.get("state") ?? "")
        return Response.redirect(back.href, 302)
      }
      if (url.pathname === "/token") {
        const form = new URLSearchParams(await req.text())
        seen.token.push(form)
        if (form.get("grant_type") === "authorization_code") {
          const expected = challenges.get(form.get("code") ?? "")
          const actual = createHash("sha256").update(form.get("code_verifier") ?? "").digest("base64url")
          if (expected === undefined || expected !== actual) return json({ error: "invalid_grant" }, 400)
          live = new Set([ACCESS])
          return json({ access_token: ACCESS, token_type: "Bearer", refresh_token: REFRESH, expires_in: options.expiresIn })
        }
        if (form.get("grant_type") === "refresh_token" && form.get("refresh_token") === REFRESH) {
          live = new Set([REFRESHED])
          return json({ access_token: REFRESHED, token_type: "Bearer", expires_in: 3600 })
        }
        return json({ error: "invalid_grant" }, 400)
      }
      if (url.pathname === "/mcp") {
        const token = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1]
        if (token === undefined || !live.has(token)) {
          return new Response("unauthorized", {
            status: 401,
            headers: { "www-authenticate": `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp", scope="tools"` }
          })
        }
        seen.bearer.push(token)
        if (req.method !== "POST") return new Response(null, { status: 405 })
        const message = await req.json() as { id?: number; method: string }
        if (message.id === undefined) return new Response(null, { status: 202 })
        const result = message.method === "initialize"
          ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "locked", version: "1" } }
          : message.method === "tools/list"
          ? { tools: [{ name: "secret_tool", description: "A tool behind a login", inputSchema: { type: "object" } }] }
          : {}
        return json({ jsonrpc: "2.0", id: message.id, result })
      }
      return new Response("not found", { status: 404 })
    }
  })
  return { server, seen, url: `http://127.0.0.1:${server.port}/mcp` }
}

let bin: string
let root: string

beforeAll(() => {
  bin = byokBinary()
  root = mkdtempSync(join(tmpdir(), "byok-oauth-"))
}, 60_000)

afterAll(() => rmSync(root, { recursive: true, force: true }))

let count = 0
const setUp = (url: string) => {
  const home = homeWithModels(oneModelPerFormat("http://127.0.0.1:9"))
  writeFileSync(join(home, ".factory", "mcp.json"), JSON.stringify({ mcpServers: { locked: { type: "http", url } } }))
  const data = join(root, `data-${++count}`)
  mkdirSync(data, { recursive: true })
  return { home, data }
}

const run = async (args: ReadonlyArray<string>, home: string, data: string, env: Record<string, string> = {}) => {
  const proc = Bun.spawn([bin, ...args], {
    cwd: root,
    env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1", HOME: home, BYOK_HOME: data, OPENAI_API_KEY: CANARY, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe"
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code, said: stdout + stderr }
}

/** Every file under a directory but the token store, as text. */
const filesBut = (dir: string, except: string): string =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && join(e.parentPath, e.name) !== except)
    .map((e) => readFileSync(join(e.parentPath, e.name), "latin1"))
    .join("\n")

describe("byok mcp login", () => {
  test("discovers, registers, logs in with PKCE for this resource; the token is kept privately, used, and never shown", async () => {
    const fake = startProtected({ expiresIn: 3600 })
    try {
      const { home, data } = setUp(fake.url)
      // Before a login: the server is listed as asking for one, with the command that does it.
      const before = await run(["mcp", "get", "locked"], home, data)
      expect(before.code).toBe(1)
      expect(before.said).toContain("run byok mcp login locked")

      const login = await run(["mcp", "login", "locked"], home, data, { BROWSER })
      expect(login.code).toBe(0)
      expect(login.said).toContain("Logged in to locked")
      expect(fake.seen.registered).toBe(1)
      const asked = fake.seen.authorize[0]!
      expect(asked.get("code_challenge_method")).toBe("S256")
      expect(asked.get("resource")).toBe(fake.url)
      expect(asked.get("scope")).toBe("tools")
      expect(asked.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
      expect(fake.seen.token[0]!.get("resource")).toBe(fake.url)

      const store = join(data, "mcp-tokens.json")
      expect(statSync(store).mode & 0o777).toBe(0o600)
      expect(readFileSync(store, "utf8")).toContain(ACCESS)

      const after = await run(["mcp", "get", "locked"], home, data)
      expect(after.code).toBe(0)
      expect(after.said).toContain("secret_tool")
      expect(after.said).toMatch(/login: logged in; its token expires in (59|60) min \(refreshed when needed\); byok mcp logout locked forgets it/)
      expect((await run(["mcp"], home, data)).said).toContain("·  logged in  ·")
      expect(before.said).toContain("login: none (byok mcp login locked, if the server asks for one)")
      expect(fake.seen.bearer).toContain(ACCESS)

      for (const said of [before.said, login.said, after.said]) {
        expect(said).not.toContain(ACCESS)
        expect(said).not.toContain(REFRESH)
      }
      const others = filesBut(data, store)
      expect(others).not.toContain(ACCESS)
      expect(others).not.toContain(REFRESH)

      const logout = await run(["mcp", "logout", "locked"], home, data)
      expect(logout.code).toBe(0)
      expect(readFileSync(store, "utf8")).not.toContain(ACCESS)
      expect((await run(["mcp", "logout", "locked"], home, data)).said).toContain("has no login to forget")
    } finally {
      fake.server.stop(true)
    }
  }, 60_000)

  test("a token about to expire is refreshed before it is used; the new one is kept", async () => {
    const fake = startProtected({ expiresIn: 5 })
    try {
      const { home, data } = setUp(fake.url)
      expect((await run(["mcp", "login", "locked"], home, data, { BROWSER })).code).toBe(0)
      const after = await run(["mcp", "get", "locked"], home, data)
      expect(after.code).toBe(0)
      expect(fake.seen.token.map((f) => f.get("grant_type"))).toEqual(["authorization_code", "refresh_token"])
      expect(fake.seen.bearer).toContain(REFRESHED)
      expect(fake.seen.bearer).not.toContain(ACCESS)
      expect(readFileSync(join(data, "mcp-tokens.json"), "utf8")).toContain(REFRESHED)
      expect(after.said).not.toContain(REFRESHED)
    } finally {
      fake.server.stop(true)
    }
  }, 60_000)

  test("another page's request to the callback is refused and the login goes on; a refusal's text from the server is not echoed", async () => {
    const fake = startProtected({ expiresIn: 3600 })
    // The "browser" first hits the callback as a hostile page would (no state), then does the real login.
    const hostile = join(root, "hostile-browser.ts")
    writeFileSync(
      hostile,
      `const url = new URL(process.argv[2]); const back = new URL(url.searchParams.get("redirect_uri"));
       const forged = await fetch(back.href + "?code=forged&error=%1b%5b2J").then((r) => r.status);
       if (forged !== 400) process.exit(1);
       await fetch(url.href, { redirect: "follow" });
       export {}`
    )
    try {
      const { home, data } = setUp(fake.url)
      const login = await run(["mcp", "login", "locked"], home, data, { BROWSER: `${resolve("node_modules/.bin/bun")} ${hostile}` })
      expect(login.code).toBe(0)
      expect(fake.seen.token.map((f) => f.get("code"))).toEqual(["code-1"])
      expect(login.said).not.toContain("\x1b")
    } finally {
      fake.server.stop(true)
    }
  }, 60_000)

  test("a refusal at the callback (its own state, an error that is not an OAuth error code): the login fails, the server's text not shown", async () => {
    const fake = startProtected({ expiresIn: 3600 })
    const refusing = join(root, "refusing-browser.ts")
    writeFileSync(
      refusing,
      `const url = new URL(process.argv[2]); const back = new URL(url.searchParams.get("redirect_uri"));
       back.searchParams.set("state", url.searchParams.get("state")); back.searchParams.set("error", "visit evil.example/phish to continue");
       await fetch(back.href);
       export {}`
    )
    try {
      const { home, data } = setUp(fake.url)
      const login = await run(["mcp", "login", "locked"], home, data, { BROWSER: `${resolve("node_modules/.bin/bun")} ${refusing}` })
      expect(login.code).not.toBe(0)
      expect(login.said).toContain("the authorization server answered without a code")
      expect(login.said).not.toContain("evil.example")
      expect(fake.seen.token).toEqual([])
    } finally {
      fake.server.stop(true)
    }
  }, 60_000)

  test("metadata for another resource (a path that only begins like this server's) is refused: no token is asked for", async () => {
    const fake = startProtected({ expiresIn: 3600, resourcePath: "/mc" })
    try {
      const { home, data } = setUp(fake.url)
      const login = await run(["mcp", "login", "locked"], home, data, { BROWSER })
      expect(login.code).not.toBe(0)
      expect(login.said).toContain("the server's metadata names another resource")
      expect(fake.seen.authorize).toEqual([])
      expect(fake.seen.token).toEqual([])
    } finally {
      fake.server.stop(true)
    }
  }, 60_000)

  test("login for a server that is not HTTP, or not in the config, is a usage error naming it", async () => {
    const { home, data } = setUp("http://127.0.0.1:9/mcp")
    const missing = await run(["mcp", "login", "nope"], home, data)
    expect(missing.code).toBe(2)
    expect(missing.said).toContain("nope")
  }, 60_000)
})

describe("the token store", () => {
  test("eight byok processes saving logins at once: every one is kept, and the file stays private", async () => {
    const dir = mkdtempSync(join(tmpdir(), "byok-tokens-"))
    const file = join(dir, "mcp-tokens.json")
    const store = resolve("src/mcp/tokens.ts")
    const procs = Array.from({ length: 8 }, (_, i) =>
      Bun.spawn([process.execPath, "-e", `
        const { saveTokens } = await import(${JSON.stringify(store)})
        for (let n = 0; n < 25; n++) {
          const why = saveTokens(${JSON.stringify(file)}, "server-${i} ", { accessToken: "t${i}-" + n, clientId: "c", tokenEndpoint: "x", authMethod: "none", resource: "r" })
          if (why !== undefined) { console.error(why); process.exit(1) }
        }`], { stdout: "ignore", stderr: "pipe" }))
    const codes = await Promise.all(procs.map((p) => p.exited))
    expect(codes).toEqual(Array(8).fill(0))
    const kept = JSON.parse(readFileSync(file, "utf8")) as Record<string, { accessToken: string }>
    expect(Object.keys(kept).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `server-${i} `).sort())
    for (let i = 0; i < 8; i++) expect(kept[`server-${i} `]!.accessToken).toBe(`t${i}-24`)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)
})
