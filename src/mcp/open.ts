// The MCP servers of a run: read from the config's mcp.json files, their `${VAR}` values made secrets for the
// redactor, and a hub made (mcp/hub.ts). What `byok mcp`, `/mcp` and the doctor print of them is here too.
import { Effect } from "effect"
import type { LoadedConfig } from "../config/config.ts"
import { envVar } from "../lib/env.ts"
import { dataPlace } from "../lib/sqlite.ts"
import { Redactor } from "../lib/redact.ts"
import type { Autonomy } from "../sandbox/levels.ts"
import type { BuiltinTool } from "../tools/tool.ts"
import { readMcpConfig } from "./config.ts"
export { formLines, withDefaults } from "./elicit.ts"
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
  elicit?: HubOptions["elicit"]
): Effect.Effect<McpHub & { readonly issues: ReadonlyArray<string> }, never, Redactor> =>
  Effect.gen(function*() {
    const config = readMcpConfig(loaded.mcpFiles, process.env)
    for (const issue of config.issues) yield* warn(issue)
    const redactor = yield* Redactor
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
      elicit
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
      `${s.server.name}  ${s.server.type}  ${statusText(s)}  ·  ${s.tools !== undefined ? `${s.tools.length} tools` : "tools not listed"}  ·  ${where(s)}  (${s.server.source.path})`
    )

/** `byok mcp get NAME`, the doctor: a server and its tools with their risk. */
export const serverDetail = (state: ServerState): Array<string> => [
  `${state.server.name} (${state.server.type}, from ${state.server.source.path})`,
  `  ${state.server.type === "stdio" ? "command" : "url"}: ${where(state)}`,
  ...(Object.keys(state.server.env).length > 0 ? [`  env: ${Object.keys(state.server.env).join(", ")} (values not shown)`] : []),
  ...(Object.keys(state.server.headers).length > 0 ? [`  headers: ${Object.keys(state.server.headers).join(", ")} (values not shown)`] : []),
  `  status: ${statusText(state)}`,
  ...(state.tools ?? []).map((t) => {
    const { risk } = riskOfAnnotations(t.annotations)
    const off = state.server.disabledTools.includes(t.name) ? " (disabled)" : ""
    return `  ${toolNameOf(state.server, t.name)}  ${risk}${off}${t.description !== undefined ? `  ${t.description.split("\n")[0]!.slice(0, 80)}` : ""}`
  })
]

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
