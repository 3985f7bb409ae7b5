// byok as the client under test of the official MCP conformance suite (@modelcontextprotocol/conformance): the suite
// starts a scenario's server and runs this with its URL. A loopback fake model calls the first tool the server offers
// (arguments made from its schema), then answers; byok exec --auto high connects to the server, lists its tools and
// runs the call, as a user's model would have it do. MCP_CONFORMANCE_SCENARIO names the scenario.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const url = process.argv[2]
if (url === undefined) {
  console.error("usage: client.ts SERVER_URL")
  process.exit(2)
}
const bin = process.env["BYOK_BIN"] ?? join(import.meta.dir, "..", "..", "dist", "byok")

/** A value a schema accepts: its default, else a plain one of its type. */
const valueFor = (schema: Record<string, unknown>): unknown =>
  schema["default"] ?? (schema["type"] === "number" || schema["type"] === "integer" ? 2 : schema["type"] === "boolean" ? true : schema["type"] === "array" ? [] : schema["type"] === "object" ? {} : "x")

const encoder = new TextEncoder()
const chunk = (value: unknown) => encoder.encode(`data: ${JSON.stringify(value)}\n\n`)
const model = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    if (req.method !== "POST") return new Response("", { status: 404 })
    const body = await req.json() as { messages: Array<{ role: string }>; tools?: Array<{ function: { name: string; parameters?: { properties?: Record<string, Record<string, unknown>> } } }> }
    const called = body.messages.some((m) => m.role === "tool")
    const tool = (body.tools ?? []).find((t) => t.function.name.startsWith("mcp__conf__"))
    const parts = !called && tool !== undefined
      ? [
        chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: tool.function.name, arguments: JSON.stringify(Object.fromEntries(Object.entries(tool.function.parameters?.properties ?? {}).map(([k, s]) => [k, valueFor(s)]))) } }] } }] }),
        chunk({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] })
      ]
      : [chunk({ choices: [{ index: 0, delta: { content: "done" }, finish_reason: "stop" }] })]
    return new Response(new ReadableStream({
      start(controller) {
        for (const p of parts) controller.enqueue(p)
        controller.enqueue(encoder.encode("data: [DONE]\n\n"))
        controller.close()
      }
    }), { headers: { "content-type": "text/event-stream" } })
  }
})

const home = mkdtempSync(join(tmpdir(), "byok-conformance-"))
mkdirSync(join(home, ".factory"))
writeFileSync(join(home, ".factory", "settings.json"), JSON.stringify({
  customModels: [{ displayName: "M", model: "m", baseUrl: `http://127.0.0.1:${model.port}/v1`, apiKey: "local", provider: "generic-chat-completion-api", maxOutputTokens: 100 }]
}))
// A scenario's context (a pre-registered client, client credentials) becomes the server's "oauth" field.
const context = JSON.parse(process.env["MCP_CONFORMANCE_CONTEXT"] ?? "{}") as Record<string, unknown>
/** The scenario's private key, as a user keeps one: a file of their own. */
const keyFile = (pem: string) => {
  const file = join(home, "client-key.pem")
  writeFileSync(file, pem, { mode: 0o600 })
  return file
}
// (The suite's client metadata document: byok uses it where the authorization server supports them.)
const oauth = typeof context["client_id"] === "string"
  ? {
    clientId: context["client_id"],
    ...(typeof context["client_secret"] === "string" ? { clientSecret: context["client_secret"] } : {}),
    ...(typeof context["private_key_pem"] === "string" ? { privateKeyFile: keyFile(context["private_key_pem"]) } : {}),
    ...(String(process.env["MCP_CONFORMANCE_SCENARIO"] ?? "").includes("client-credentials") ? { grant: "client_credentials" } : {}),
    ...(typeof context["idp_id_token"] === "string"
      ? {
        grant: "cross_app_access",
        idpTokenEndpoint: context["idp_token_endpoint"],
        idpClientId: context["idp_client_id"],
        idToken: context["idp_id_token"]
      }
      : {})
  }
  : { clientMetadataUrl: "https://conformance-test.local/client-metadata.json" }
writeFileSync(join(home, ".factory", "mcp.json"), JSON.stringify({ mcpServers: { conf: { type: "http", url, ...(oauth !== undefined ? { oauth } : {}) } } }))
// (BYOK_MCP_ACCEPT_DEFAULTS=0: exec as a user runs it by default, declining a server's questions; for byok's own tests.)
const defaults = process.env["BYOK_MCP_ACCEPT_DEFAULTS"] === "0" ? [] : ["--mcp-accept-defaults"]
const proc = Bun.spawn([bin, "exec", "-m", "M", "--auto", "high", ...defaults, "Use the server's tool."], {
  cwd: home,
  env: { ...process.env, HOME: home, BYOK_HOME: join(home, "data"), NO_COLOR: "1", BROWSER: `${process.execPath} ${join(import.meta.dir, "browser.ts")}` },
  stdout: "inherit",
  stderr: "inherit"
})
const code = await proc.exited
model.stop(true)
process.exit(code)
