// mcp.json as byok reads it (mcp/config.ts), the risk an MCP tool's annotations give it and its name for the model
// (mcp/hub.ts): pure functions, no server.
import { afterAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { readMcpConfig, serverEnvironment } from "../src/mcp/config.ts"
import { riskOfAnnotations, toolNameOf } from "../src/mcp/hub.ts"

const dir = mkdtempSync(join(tmpdir(), "byok-mcp-config-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const file = (value: unknown, scope: "personal" | "project" = "personal") => {
  const path = join(dir, `${++n}.json`)
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value))
  return { path, scope }
}

describe("readMcpConfig", () => {
  test("stdio, http and sse; the type inferred from command or url; disabled and disabledTools kept", () => {
    const { servers, issues } = readMcpConfig([file({
      mcpServers: {
        a: { command: "npx", args: ["-y", "pkg"] },
        b: { url: "https://h/mcp" },
        c: { type: "sse", url: "http://h/sse", disabled: true, disabledTools: ["x"] }
      }
    })], {})
    expect(issues).toEqual([])
    expect(servers.map((s) => [s.name, s.type, s.disabled])).toEqual([["a", "stdio", false], ["b", "http", false], ["c", "sse", true]])
    expect(servers[2]!.disabledTools).toEqual(["x"])
  })

  test("each bad field is named, and only its server left out", () => {
    const { servers, issues } = readMcpConfig([file({
      mcpServers: {
        ok: { command: "x" },
        t: { type: "ws", url: "x" },
        c: { type: "stdio" },
        u: { type: "http", url: "ftp://x" },
        a: { command: "x", args: "one" },
        e: { command: "x", env: { A: 1 } },
        s: "npx pkg"
      }
    })], {})
    expect(servers.map((s) => s.name)).toEqual(["ok"])
    expect(issues).toHaveLength(6)
    expect(issues.join("\n")).toContain("mcpServers.t.type: must be")
    expect(issues.join("\n")).toContain("mcpServers.c.command:")
    expect(issues.join("\n")).toContain("mcpServers.u.url:")
    expect(issues.join("\n")).toContain("mcpServers.a.args:")
    expect(issues.join("\n")).toContain("mcpServers.e.env.A: must be a string")
    expect(issues.join("\n")).toContain("mcpServers.s: must be an object")
  })

  test("broken JSON names its line; no file or an empty one is no problem", () => {
    const broken = file('{\n  "mcpServers": {\n    "a": { "command": "x", }\n  }\n}')
    const { issues } = readMcpConfig([broken, { path: join(dir, "missing.json"), scope: "personal" }, file("")], {})
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatch(new RegExp(`^${broken.path}:3:\\d+: `))
  })

  test("${VAR}: expanded in the user's file (and made a secret); unset leaves the server out; never in a project's", () => {
    const env = { TOKEN: "tok-123456789012", EMPTY: "" }
    const user = readMcpConfig([file({ mcpServers: { a: { command: "x", env: { T: "${TOKEN}" } }, b: { url: "http://h", headers: { H: "Bearer ${NOPE}" } }, c: { command: "x", env: { E: "${EMPTY}" } } } })], env)
    expect(user.servers.map((s) => s.name)).toEqual(["a"])
    expect(user.servers[0]!.env).toEqual({ T: "tok-123456789012" })
    expect(user.servers[0]!.secrets).toEqual(["tok-123456789012"])
    expect(user.issues.join("\n")).toContain("needs the environment variable NOPE")
    expect(user.issues.join("\n")).toContain("needs the environment variable EMPTY")
    // values written out count as secrets too when they look like them: every header, a secret-named or token-shaped env value
    const literal = readMcpConfig([file({ mcpServers: { l: { command: "x", env: { API_KEY: "literal-value-1", MODE: "production", ID: "abc123def456ghi789" } }, h: { url: "http://h", headers: { "X-Custom": "custom header value" } } } })], env)
    expect(literal.servers.find((x) => x.name === "l")!.secrets).toEqual(["literal-value-1", "abc123def456ghi789"])
    expect(literal.servers.find((x) => x.name === "h")!.secrets).toEqual(["custom header value"])
    const project = readMcpConfig([file({ mcpServers: { p: { command: "x", env: { T: "${TOKEN}" } } } }, "project")], env)
    expect(project.servers[0]!.env).toEqual({ T: "${TOKEN}" })
    expect(project.servers[0]!.secrets).toEqual([])
    expect(project.issues[0]).toContain("is not expanded in a project's mcp.json")
  })

  test("the user's server wins over a project's of the same name; names that clash as tool names are said", () => {
    const { servers, issues } = readMcpConfig([
      file({ mcpServers: { a: { command: "mine" }, "x.y": { command: "1" } } }),
      file({ mcpServers: { a: { command: "theirs" }, x_y: { command: "2" } } }, "project")
    ], {})
    expect(servers.find((s) => s.name === "a")!.command).toBe("mine")
    expect(servers.map((s) => s.name)).toEqual(["a", "x.y"])
    expect(issues.join("\n")).toContain("mcpServers.a is ignored")
    expect(issues.join("\n")).toContain("mcpServers.x_y is ignored: its tool names would be those of \"x.y\"")
  })

  test("the cache key follows the configuration as written, not the values of its variables", () => {
    const f = file({ mcpServers: { a: { command: "x", env: { T: "${TOKEN}" } } } })
    const one = readMcpConfig([f], { TOKEN: "one" }).servers[0]!.key
    expect(readMcpConfig([f], { TOKEN: "two" }).servers[0]!.key).toBe(one)
    expect(readMcpConfig([file({ mcpServers: { a: { command: "x", args: ["-v"], env: { T: "${TOKEN}" } } } })], { TOKEN: "one" }).servers[0]!.key).not.toBe(one)
  })

  test("a stdio server's environment: only harmless variables of byok's, then its own", () => {
    const server = readMcpConfig([file({ mcpServers: { a: { command: "x", env: { OWN: "1" } } } })], {}).servers[0]!
    const env = serverEnvironment(server, { PATH: "/bin", HOME: "/h", OPENAI_API_KEY: "sk-secret", ANTHROPIC_API_KEY: "k", AWS_SECRET_ACCESS_KEY: "a" })
    expect(env).toEqual({ PATH: "/bin", HOME: "/h", OWN: "1" })
  })
})

describe("MCP tools for the model", () => {
  test("risk from annotations: read-only, not destructive, destructive (said or by the spec's default), none", () => {
    expect(riskOfAnnotations({ readOnlyHint: true, destructiveHint: true }).risk).toBe("read")
    expect(riskOfAnnotations({ destructiveHint: false }).risk).toBe("low")
    expect(riskOfAnnotations({ readOnlyHint: false, destructiveHint: false }).risk).toBe("low")
    expect(riskOfAnnotations({ destructiveHint: true }).risk).toBe("high")
    expect(riskOfAnnotations({ readOnlyHint: false }).risk).toBe("high")
    expect(riskOfAnnotations({ title: "x", openWorldHint: true }).risk).toBe("medium")
    expect(riskOfAnnotations(undefined).risk).toBe("medium")
  })

  test("names: mcp__server__tool, in the characters and the 64 every API allows", () => {
    const server = readMcpConfig([file({ mcpServers: { "my.server": { command: "x" } } })], {}).servers[0]!
    expect(toolNameOf(server, "get-sum")).toBe("mcp__my_server__get-sum")
    expect(toolNameOf(server, "a b/c")).toBe("mcp__my_server__a_b_c")
    expect(toolNameOf(server, "x".repeat(100))).toHaveLength(64)
  })
})
