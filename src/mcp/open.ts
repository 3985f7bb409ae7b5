// The MCP servers of a run: read from the config's mcp.json files, their `${VAR}` values made secrets for the
// redactor, and a hub made (mcp/hub.ts). What `byok mcp`, `/mcp` and the doctor print of them is here too.
import { Effect } from "effect"
import type { LoadedConfig } from "../config/config.ts"
import { envVar } from "../lib/env.ts"
import { dataPlace } from "../lib/sqlite.ts"
import { Network, proxyFor } from "../lib/network.ts"
import { Redactor } from "../lib/redact.ts"
import type { Autonomy } from "../sandbox/levels.ts"
import type { BuiltinTool } from "../tools/tool.ts"
import { readMcpConfig } from "./config.ts"
import { routeMcpThrough } from "./net.ts"
export { fieldValue, formLines, withDefaults } from "./elicit.ts"
import { DEFAULT_MCP_TIMEOUT_S, type HubOptions, makeHub, type McpHub, riskOfAnnotations, type ServerState, statusOf, toolNameOf } from "./hub.ts"

/** BYOK_MCP_TIMEOUT in milliseconds: seconds, a positive number; anything else is said and the default used. */
const mcpTimeoutMs = (warn: (text: string) => Effect.Effect<void>) =>
  Effect.gen(function*() {
    const value = yield* envVar("BYOK_MCP_TIMEOUT")
    if (value === undefined || value.trim() === "") return DEFAULT_MCP_TIMEOUT_S * 1000
    const seconds = Number(value)
    if (Number.isFinite(seconds) && seconds > 0) return Math.round(seconds * 1000)
    yield* warn(`BYOK_MCP_TIMEOUT must be a number of seconds above 0, found "${value}"; using ${DEFAULT_MCP_TIMEOUT_S}`)
    return DEFAULT_MCP_TIMEOUT_S * 1000
  })

/** The hub of this run's servers; none is started yet (the hub's `prepare` and `start` do that). */
export const openHub = (
  loaded: LoadedConfig,
  warn: (text: string) => Effect.Effect<void>,
  elicit?: HubOptions["elicit"],
  onProgress?: HubOptions["onProgress"]
): Effect.Effect<McpHub & { readonly issues: ReadonlyArray<string> }, never, Redactor> =>
  Effect.gen(function*() {
    const config = readMcpConfig(loaded.mcpFiles, process.env)
    for (const issue of config.issues) yield* warn(issue)
    const redactor = yield* Redactor
    // MCP's HTTP requests go through the proxy a model's would (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
    const network = yield* Network
    routeMcpThrough((url) => proxyFor(network, new URL(url)))
    for (const server of config.servers) for (const secret of server.secrets) redactor.add(secret)
    const timeoutMs = yield* mcpTimeoutMs(warn)
    // Where the tool lists and logs are kept; nowhere when byok records nothing (BYOK_NO_RECORD, no HOME).
    const place = yield* dataPlace
    const hub = yield* makeHub(config.servers, {
      dataDir: place._tag === "Directory" ? place.path : undefined,
      cwd: process.cwd(),
      env: process.env,
      timeoutMs,
      redact: redactor.redact,
      warn,
      addSecret: redactor.add,
      elicit,
      onProgress
    })
    return { ...hub, issues: config.issues }
  })

/** What the model is offered at a level: at off only read-only tools, as with the built-in ones. */
export const mcpToolsFor = (hub: McpHub | undefined, level: Autonomy): ReadonlyArray<BuiltinTool> =>
  hub === undefined ? [] : hub.tools().filter((t) => level !== "off" || t.readOnly)

const where = (state: ServerState) =>
  state.server.type === "stdio" ? [state.server.command, ...state.server.args].join(" ") : state.server.url ?? ""

const statusText = (state: ServerState): string => {
  const status = statusOf(state)
  return status === "failed"
    ? `failed: ${state.error}`
    : status === "cached"
    ? `not started (tools cached ${state.listedAt?.slice(0, 16).replace("T", " ") ?? ""})`
    : status === "not listed"
    ? "not started yet"
    : status
}

/** `byok mcp list`, `/mcp`: one line per server. */
export const serverLines = (hub: McpHub): Array<string> =>
  hub.states.length === 0
    ? ["No MCP servers are configured. Add one with: byok mcp add NAME -- COMMAND [ARGS…]  (or NAME URL --type http)"]
    : hub.states.map((s) =>
      `${s.server.name}  ${s.server.type}  ${statusText(s)}  ·  ${s.tools !== undefined ? `${s.tools.length} tools` : "tools not listed"}${
        hub.login(s) !== undefined ? "  ·  logged in" : ""
      }  ·  ${where(s)}  (${s.server.source.path})`
    )

/** An HTTP server's OAuth login in words: whether there is one, and when its token expires. */
const loginText = (hub: McpHub, state: ServerState): string | undefined => {
  if (state.server.type !== "http") return undefined
  const login = hub.login(state)
  if (login === undefined) return `none (byok mcp login ${state.server.name}, if the server asks for one)`
  const left = login.expiresAt === undefined ? undefined : Math.round((login.expiresAt - Date.now()) / 60_000)
  const expiry = left === undefined ? "" : left > 0 ? `; its token expires in ${left} min` : "; its token has expired"
  return `logged in${expiry}${login.refreshable ? " (refreshed when needed)" : ""}; byok mcp logout ${state.server.name} forgets it`
}

/** `byok mcp get NAME`, the doctor: a server and its tools with their risk. */
export const serverDetail = (state: ServerState, hub?: McpHub): Array<string> => {
  const login = hub !== undefined ? loginText(hub, state) : undefined
  return [
  `${state.server.name} (${state.server.type}, from ${state.server.source.path})`,
  `  ${state.server.type === "stdio" ? "command" : "url"}: ${where(state)}`,
  ...(Object.keys(state.server.env).length > 0 ? [`  env: ${Object.keys(state.server.env).join(", ")} (values not shown)`] : []),
  ...(Object.keys(state.server.headers).length > 0 ? [`  headers: ${Object.keys(state.server.headers).join(", ")} (values not shown)`] : []),
  ...(login !== undefined ? [`  login: ${login}`] : []),
  `  status: ${statusText(state)}`,
  ...(state.connection?.resources() ?? []).slice(0, 50).map((r) => `  resource ${state.server.name}:${r.uri}  ${r.name}${r.description !== undefined ? `  ${r.description.split("\n")[0]!.slice(0, 60)}` : ""}`),
  ...(state.connection?.prompts() ?? []).slice(0, 50).map((p) => `  prompt ${p.name}${p.description !== undefined ? `  ${p.description.split("\n")[0]!.slice(0, 60)}` : ""}`),
  ...(state.tools ?? []).map((t) => {
    const { risk } = riskOfAnnotations(t.annotations)
    const off = state.server.disabledTools.includes(t.name) ? " (disabled)" : ""
    return `  ${toolNameOf(state.server, t.name)}  ${risk}${off}${t.description !== undefined ? `  ${t.description.split("\n")[0]!.slice(0, 80)}` : ""}`
  })
  ]
}

/** The fix for a server that failed, from why it did. */
export const fixFor = (state: ServerState): string => {
  const why = state.error ?? ""
  const file = state.server.source.path
  if (/no such program/.test(why)) return `install "${state.server.command}", or correct "command" of "${state.server.name}" in ${file}`
  if (/did not start within|no answer within/.test(why)) {
    return `run it by hand to see what it waits for (${where(state)}); BYOK_MCP_TIMEOUT=SECONDS allows longer`
  }
  if (/exited|ended by/.test(why)) return `its log says why: byok's data directory, mcp-logs/${state.server.slug}.log`
  if (/asks for an OAuth login/.test(why)) {
    return `run byok mcp login ${state.server.name} (it opens your browser; over SSH, open the page it prints); or, if the service gives you a token to paste, put it in "headers" of "${state.server.name}" in ${file} ("Authorization": "Bearer \${TOKEN}")`
  }
  if (/HTTP status 401|HTTP status 403/.test(why)) return `check the token in "headers" of "${state.server.name}" in ${file}`
  if (state.server.type === "http") return `check that ${state.server.url} is reachable and an MCP endpoint (for an older server, "type": "sse")`
  if (state.server.type === "sse") return `check that ${state.server.url} is reachable and an MCP event stream (for a newer server, "type": "http")`
  return `check "${state.server.name}" in ${file}`
}
