// `byok mcp`: the MCP servers of ~/.factory/mcp.json and a trusted project's .factory/mcp.json (mcp/), listed,
// one started to show its tools, and servers added to or removed from the user's file, as droid's `mcp` does.
import { Effect, Option, Stdio } from "effect"
import { existsSync } from "node:fs"
import { ConfigService } from "../config/config.ts"
import { UsageError } from "../config/errors.ts"
import { stripControls } from "../lib/controls.ts"
import { addServer, MCP_TRANSPORTS, type McpTransport, removeServer, slugOf } from "../mcp/config.ts"
import { fixFor, openHub, serverDetail, serverLines } from "../mcp/open.ts"
import { authFor } from "../mcp/oauth.ts"
import { loadTokens, saveTokens, tokenKey, tokensFile } from "../mcp/tokens.ts"
import { Redactor } from "../lib/redact.ts"
import { dataPlace } from "../lib/sqlite.ts"
import type { McpAddInput, McpGetInput, McpRemoveInput } from "./inputs.ts"
import { QuietExit } from "./exit.ts"
import { ExitCode } from "../explain/codes.ts"
import { printLine } from "./render.ts"
import { parseCommand } from "../tools/risk.ts"
import { withConfig } from "./services.ts"
import { note, term, warn } from "./term.ts"
import { mcpFetch } from "../mcp/net.ts"

const hubOf = Effect.gen(function*() {
  const t = yield* term
  const stdio = yield* Stdio.Stdio
  const loaded = yield* (yield* ConfigService).load
  return yield* Effect.acquireRelease(openHub(loaded, (text) => warn(t, text).pipe(Effect.provideService(Stdio.Stdio, stdio))), (h) => h.close)
})

export const runMcpList = (flags: { readonly config: McpGetInput["config"] }) =>
  Effect.gen(function*() {
    const hub = yield* hubOf
    for (const line of serverLines(hub)) yield* printLine(stripControls(line))
  }).pipe(Effect.scoped, withConfig(flags.config, "mcp list"))

export const runMcpGet = (flags: McpGetInput) =>
  Effect.gen(function*() {
    const hub = yield* hubOf
    const state = hub.states.find((s) => s.server.name === flags.name)
    if (state === undefined) {
      const leftOut = hub.issues.find((i) => i.includes(`mcpServers.${flags.name}.`) || i.includes(`mcpServers.${flags.name}:`) || i.includes(`mcpServers.${flags.name} `))
      if (leftOut !== undefined) return yield* new UsageError({ detail: `"${flags.name}" cannot be used: ${leftOut}` })
      return yield* new UsageError({
        detail: `no MCP server is named "${flags.name}"`,
        hint: hub.states.length > 0 ? `The servers: ${hub.states.map((s) => s.server.name).join(", ")}.` : "byok mcp add NAME -- COMMAND adds one."
      })
    }
    const ok = state.server.disabled ? true : yield* hub.start(state)
    for (const line of serverDetail(state, hub)) yield* printLine(stripControls(line))
    if (!ok) {
      yield* printLine(stripControls(`  fix: ${fixFor(state)}`))
      return yield* new QuietExit({ code: ExitCode.other })
    }
  }).pipe(Effect.scoped, withConfig(flags.config, "mcp get"))

/** A server of the config by name, for login and logout: an HTTP one. */
const httpServer = (hub: Effect.Success<typeof hubOf>, name: string) =>
  Effect.gen(function*() {
    const state = hub.states.find((s) => s.server.name === name)
    if (state === undefined) {
      return yield* new UsageError({
        detail: `no MCP server is named "${name}"`,
        hint: hub.states.length > 0 ? `The servers: ${hub.states.map((s) => s.server.name).join(", ")}.` : "byok mcp add NAME URL --type http adds one."
      })
    }
    if (state.server.type !== "http") return yield* new UsageError({ detail: `"${name}" is a ${state.server.type} server: only http servers log in (OAuth)` })
    return state.server
  })

export const runMcpLogin = (flags: McpGetInput) =>
  Effect.gen(function*() {
    const t = yield* term
    const stdio = yield* Stdio.Stdio
    const hub = yield* hubOf
    const server = yield* httpServer(hub, flags.name)
    const place = yield* dataPlace
    const redactor = yield* Redactor
    if (place._tag !== "Directory") {
      return yield* new UsageError({ detail: "byok keeps no tokens here (BYOK_NO_RECORD, or no HOME): there is nowhere to keep a login" })
    }
    // The server's own challenge says where its metadata and what scope it wants.
    const challenge = yield* Effect.promise(() =>
      mcpFetch(server.url!, {
        method: "POST",
        redirect: "manual",
        headers: { ...server.headers, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "byok", version: "login" } } })
      }).then((r) => (r.status === 401 ? r.headers.get("www-authenticate") ?? undefined : undefined), () => undefined)
    )
    const auth = authFor({
      server,
      file: tokensFile(place.path),
      interactive: true,
      tell: (text) => Effect.runFork(note(t, text).pipe(Effect.provideService(Stdio.Stdio, stdio))),
      secret: redactor.add
    })
    const result = yield* Effect.promise(() => auth.login(challenge))
    if (typeof result !== "string") return yield* new UsageError({ detail: `${flags.name}: ${result.why}` })
    if (loadTokens(tokensFile(place.path), tokenKey(server)) === undefined) {
      return yield* new UsageError({ detail: `${flags.name}: the login worked, but its tokens could not be kept in ${tokensFile(place.path)} (see above)` })
    }
    yield* printLine(`Logged in to ${flags.name}; its tokens are kept in ${tokensFile(place.path)} (private).`)
  }).pipe(Effect.scoped, withConfig(flags.config, "mcp login"))

export const runMcpLogout = (flags: McpGetInput) =>
  Effect.gen(function*() {
    const hub = yield* hubOf
    const server = yield* httpServer(hub, flags.name)
    const place = yield* dataPlace
    const file = place._tag === "Directory" ? tokensFile(place.path) : undefined
    if (file === undefined || loadTokens(file, tokenKey(server)) === undefined) return yield* printLine(`${flags.name} has no login to forget.`)
    const unsaved = saveTokens(file, tokenKey(server), undefined)
    if (unsaved !== undefined) return yield* new UsageError({ detail: `cannot forget the login to ${flags.name}: ${unsaved}` })
    yield* printLine(`Logged out of ${flags.name}: its tokens are forgotten.`)
  }).pipe(Effect.scoped, withConfig(flags.config, "mcp logout"))

const userFile = () => {
  const home = process.env["HOME"]
  return home !== undefined && home !== "" ? `${home.replace(/\/+$/, "")}/.factory/mcp.json` : undefined
}

export const runMcpAdd = (flags: McpAddInput) =>
  Effect.gen(function*() {
    const file = userFile()
    if (file === undefined) return yield* new UsageError({ detail: "HOME is not set, so there is no ~/.factory/mcp.json to write" })
    const name = flags.name.trim()
    if (name === "" || slugOf(name) !== name) {
      return yield* new UsageError({ detail: `a server's name is letters, digits, _ and - (it becomes part of its tools' names), got "${flags.name}"` })
    }
    // droid's own form gives the command as one quoted word (`droid mcp add fs "npx -y pkg"`): its words are split
    // as a shell would (quotes kept together; no expansion), so both forms give the same entry.
    const parsed = flags.target.length === 1 && /\s/.test(flags.target[0]!.trim()) ? parseCommand(flags.target[0]!) : undefined
    const words = parsed !== undefined && parsed.commands.length === 1 && parsed.operators.length === 0 && !parsed.opaque
      ? parsed.commands[0]!
      : flags.target
    const [first, ...rest] = words
    if (first === undefined) {
      return yield* new UsageError({ detail: "give the command to run (byok mcp add NAME -- COMMAND ARGS…) or the URL (byok mcp add NAME URL --type http)" })
    }
    const given = Option.getOrUndefined(flags.type)
    if (given !== undefined && !(MCP_TRANSPORTS as ReadonlyArray<string>).includes(given)) {
      return yield* new UsageError({ detail: `--type must be one of ${MCP_TRANSPORTS.join(", ")}, got "${given}"` })
    }
    const isUrl = /^https?:\/\//i.test(first)
    const type: McpTransport = (given as McpTransport | undefined) ?? (isUrl ? "http" : "stdio")
    const env = Option.getOrElse(flags.env, () => ({}))
    let entry: Record<string, unknown>
    if (type === "stdio") {
      if (flags.header.length > 0) return yield* new UsageError({ detail: "--header is for http and sse servers; a stdio server takes --env" })
      entry = { type, command: first, args: rest, ...(Object.keys(env).length > 0 ? { env } : {}) }
    } else {
      if (!isUrl || rest.length > 0) return yield* new UsageError({ detail: `an ${type} server takes one http:// or https:// URL, got "${flags.target.join(" ")}"` })
      if (Object.keys(env).length > 0) return yield* new UsageError({ detail: "--env is for stdio servers; an http or sse server takes --header" })
      const headers: Record<string, string> = {}
      for (const h of flags.header) {
        const at = h.indexOf(":")
        if (at <= 0) return yield* new UsageError({ detail: `--header must be "NAME: VALUE", got "${h}"` })
        headers[h.slice(0, at).trim()] = h.slice(at + 1).trim()
      }
      entry = { type, url: first, ...(Object.keys(headers).length > 0 ? { headers } : {}) }
    }
    const replaced = existsSync(file)
    const error = yield* Effect.try({
      try: () => addServer(file, name, entry),
      catch: (e) => new UsageError({ detail: `cannot write ${file}: ${(e as Error).message}` })
    })
    if (error !== undefined) return yield* new UsageError({ detail: error })
    yield* printLine(`Added "${name}" (${type}) to ${file}${replaced ? "" : " (created)"}. Its tools: byok mcp get ${name}`)
  })

export const runMcpRemove = (flags: McpRemoveInput) =>
  Effect.gen(function*() {
    const file = userFile()
    if (file === undefined) return yield* new UsageError({ detail: "HOME is not set, so there is no ~/.factory/mcp.json" })
    const result = yield* Effect.try({
      try: () => removeServer(file, flags.name),
      catch: (e) => new UsageError({ detail: `cannot write ${file}: ${(e as Error).message}` })
    })
    if (result === "missing") {
      return yield* new UsageError({
        detail: `${file} has no server named "${flags.name}"`,
        hint: "byok mcp list shows the servers and the file each is from; a project's are removed by editing its .factory/mcp.json."
      })
    }
    if (result !== undefined) return yield* new UsageError({ detail: result })
    yield* printLine(`Removed "${flags.name}" from ${file}.`)
  })
