// MCP servers as droid configures them: `mcpServers` in ~/.factory/mcp.json and, in a trusted project,
// .factory/mcp.json (the user's own file wins a name both define: a project cannot replace a user's server). Each
// server is `stdio` (command, args, env), `http` (Streamable HTTP: url, headers) or `sse` (the legacy transport),
// and may be `disabled` or have `disabledTools`. `${VAR}` in env and headers is expanded from the user's file only:
// a project's server is a program the project chose, and byok hands it no environment value.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { parseJson } from "../config/json.ts"
import { isRecord } from "../config/schema.ts"
import { PRIVATE_FILE, privateDirectory } from "../lib/sqlite.ts"
import type { OAuthSettings } from "./oauth.ts"

export type McpTransport = "stdio" | "http" | "sse"
export const MCP_TRANSPORTS: ReadonlyArray<McpTransport> = ["stdio", "http", "sse"]

export interface McpFile {
  readonly path: string
  readonly scope: "personal" | "project"
}

export interface McpServer {
  /** As written in the file. */
  readonly name: string
  /** The name in tool names: letters, digits, `_` and `-` only. */
  readonly slug: string
  readonly type: McpTransport
  readonly command: string | undefined
  readonly args: ReadonlyArray<string>
  /** The values after `${VAR}` expansion: these are secrets, never shown. */
  readonly env: Readonly<Record<string, string>>
  readonly url: string | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly disabled: boolean
  readonly disabledTools: ReadonlyArray<string>
  readonly source: McpFile
  /** Identifies the configuration (as written, before expansion) for the tool-list cache. */
  readonly key: string
  /** Values that came from the environment: the redactor keeps them out of every output. */
  readonly secrets: ReadonlyArray<string>
  /** http: the `oauth` field (a pre-registered client, scopes, the callback port, the grant). */
  readonly oauth: OAuthSettings | undefined
}

export interface McpConfig {
  readonly servers: ReadonlyArray<McpServer>
  /** Problems, each naming the file and the field: the server they concern is left out. */
  readonly issues: ReadonlyArray<string>
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g
const HAS_REF = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/

const SECRET_NAME = /KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|AUTH/i

export const slugOf = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40) || "server"

/** The variables a server process gets from byok's environment (the rest only through `env`): never a key. */
export const INHERITED_ENV = ["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ"] as const

const stringMap = (
  value: unknown,
  where: string,
  issues: Array<string>
): Record<string, string> | undefined => {
  if (value === undefined) return {}
  if (!isRecord(value)) {
    issues.push(`${where}: must be an object of strings`)
    return undefined
  }
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") {
      issues.push(`${where}.${k}: must be a string, found ${JSON.stringify(v)}`)
      return undefined
    }
    out[k] = v
  }
  return out
}

/** One server's entry, checked; undefined (with an issue) when it cannot be used. */
const readServer = (
  name: string,
  value: unknown,
  file: McpFile,
  env: Readonly<Record<string, string | undefined>>,
  issues: Array<string>
): McpServer | undefined => {
  const at = `${file.path}: mcpServers.${name}`
  if (!isRecord(value)) {
    issues.push(`${at}: must be an object with "command" (stdio) or "url" (http), found ${JSON.stringify(value)}`)
    return undefined
  }
  const given = value["type"]
  const type = given === undefined ? (value["url"] !== undefined && value["command"] === undefined ? "http" : "stdio") : given
  if (typeof type !== "string" || !(MCP_TRANSPORTS as ReadonlyArray<string>).includes(type)) {
    issues.push(`${at}.type: must be "stdio", "http" or "sse", found ${JSON.stringify(given)}`)
    return undefined
  }
  const command = value["command"]
  const url = value["url"]
  if (type === "stdio" && (typeof command !== "string" || command.trim() === "")) {
    issues.push(`${at}.command: a stdio server needs the program to run, e.g. "command": "npx"`)
    return undefined
  }
  if (type !== "stdio") {
    if (typeof url !== "string" || !/^https?:\/\//i.test(url)) {
      issues.push(`${at}.url: an ${type} server needs an http:// or https:// address, found ${JSON.stringify(url)}`)
      return undefined
    }
  }
  const args = value["args"] ?? []
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    issues.push(`${at}.args: must be a list of strings`)
    return undefined
  }
  const rawEnv = stringMap(value["env"], `${at}.env`, issues)
  const rawHeaders = stringMap(value["headers"], `${at}.headers`, issues)
  if (rawEnv === undefined || rawHeaders === undefined) return undefined
  const disabledTools = value["disabledTools"] ?? []
  if (!Array.isArray(disabledTools) || !disabledTools.every((a) => typeof a === "string")) {
    issues.push(`${at}.disabledTools: must be a list of tool names`)
    return undefined
  }
  // ${VAR}: the user's own file only. Unset variables are said, and the server left out: it would start without
  // what it needs and fail in a less clear way.
  const secrets: Array<string> = []
  const expand = (map: Record<string, string>, field: string): Record<string, string> | undefined => {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(map)) {
      let missing: string | undefined
      out[k] = file.scope === "project" ? v : v.replace(ENV_REF, (_, variable: string) => {
        const found = env[variable]
        if (found === undefined || found === "") missing ??= variable
        else if (!secrets.includes(found)) secrets.push(found)
        return found ?? ""
      })
      // A value written out in the file is a secret too when it looks like one (every header; an env value whose
      // name says so, or that is shaped like a token): the redactor keeps it out of every output.
      // (A project's file is in the repository: what it writes out is no secret of the user's.)
      const value = out[k]!
      if (file.scope !== "project" && !secrets.includes(value) && (field === "headers" || SECRET_NAME.test(k) || /^(?=.*\d)(?=.*[A-Za-z])[^\s/]{16,}$/.test(value))) {
        secrets.push(value)
      }
      if (file.scope === "project" && HAS_REF.test(v)) {
        issues.push(
          `${at}.${field}.${k}: \${…} is not expanded in a project's mcp.json (byok gives no environment value to a ` +
            `program or address a project chose); the text is passed as written. Define the server in ~/.factory/mcp.json to use a variable`
        )
      }
      if (missing !== undefined) {
        issues.push(`${at}.${field}.${k} needs the environment variable ${missing}, which is not set (export ${missing}=… in the shell that runs byok); server left out`)
        return undefined
      }
    }
    return out
  }
  const serverEnv = expand(rawEnv, "env")
  const headers = expand(rawHeaders, "headers")
  if (serverEnv === undefined || headers === undefined) return undefined
  // oauth: its strings expand like headers (a client secret is a secret), its numbers and lists as written.
  const rawOAuth = value["oauth"]
  let oauth: OAuthSettings | undefined
  if (rawOAuth !== undefined && rawOAuth !== null) {
    if (typeof rawOAuth !== "object" || Array.isArray(rawOAuth)) {
      issues.push(`${at}.oauth: must be an object ({ "clientId", "clientSecret", "privateKeyFile", "scopes", "callbackPort", "grant" })`)
      return undefined
    }
    const o = rawOAuth as Record<string, unknown>
    const strings = expand(Object.fromEntries(Object.entries({ clientId: o["clientId"], clientSecret: o["clientSecret"], clientMetadataUrl: o["clientMetadataUrl"], privateKeyFile: o["privateKeyFile"], idpTokenEndpoint: o["idpTokenEndpoint"], idpClientId: o["idpClientId"], idpClientSecret: o["idpClientSecret"], idToken: o["idToken"] }).filter((e): e is [string, string] => typeof e[1] === "string")), "oauth")
    if (strings === undefined) return undefined
    for (const secret of [strings["clientSecret"], strings["idpClientSecret"], strings["idToken"]]) {
      if (secret !== undefined && !secrets.includes(secret)) secrets.push(secret)
    }
    const port = o["callbackPort"]
    const scopes = o["scopes"]
    if (port !== undefined && !(typeof port === "number" && Number.isInteger(port) && port > 0 && port < 65536)) {
      issues.push(`${at}.oauth.callbackPort: must be a port number`)
      return undefined
    }
    if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((x) => typeof x === "string"))) {
      issues.push(`${at}.oauth.scopes: must be a list of scope names`)
      return undefined
    }
    if (o["grant"] !== undefined && o["grant"] !== "authorization_code" && o["grant"] !== "client_credentials" && o["grant"] !== "cross_app_access") {
      issues.push(`${at}.oauth.grant: must be "authorization_code" (the default), "client_credentials" or "cross_app_access"`)
      return undefined
    }
    oauth = {
      clientId: strings["clientId"],
      clientSecret: strings["clientSecret"],
      clientMetadataUrl: strings["clientMetadataUrl"],
      privateKeyFile: strings["privateKeyFile"]?.replace(/^~(?=\/)/, process.env["HOME"] ?? "~"),
      idpTokenEndpoint: strings["idpTokenEndpoint"],
      idpClientId: strings["idpClientId"],
      idpClientSecret: strings["idpClientSecret"],
      idToken: strings["idToken"],
      scopes: scopes as ReadonlyArray<string> | undefined,
      callbackPort: port as number | undefined,
      grant: o["grant"] as OAuthSettings["grant"]
    }
  }
  // (Bun's own hash: node:crypto alone would cost a start-up more than the rest of MCP's modules.)
  const key = Bun.hash(JSON.stringify([type, command ?? null, args, rawEnv, url ?? null, rawHeaders])).toString(16)
  return {
    name,
    slug: slugOf(name),
    type: type as McpTransport,
    command: typeof command === "string" ? command : undefined,
    args: args as ReadonlyArray<string>,
    env: serverEnv,
    url: typeof url === "string" ? url : undefined,
    headers,
    disabled: value["disabled"] === true,
    disabledTools: disabledTools as ReadonlyArray<string>,
    source: file,
    key,
    secrets,
    oauth
  }
}

/** The servers of these files (lowest first: a later file's server of the same name is ignored when the earlier is
 * the user's; see the module comment). A missing file is no problem; a broken one is an issue naming its line. */
export const readMcpConfig = (files: ReadonlyArray<McpFile>, env: Readonly<Record<string, string | undefined>>): McpConfig => {
  const issues: Array<string> = []
  const servers = new Map<string, McpServer>()
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file.path, "utf8")
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue
      issues.push(`${file.path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); its MCP servers are ignored`)
      continue
    }
    if (text.trim() === "") continue
    const parsed = parseJson(text)
    if (!parsed.ok) {
      issues.push(`${file.path}:${parsed.line}:${parsed.column}: ${parsed.detail}; its MCP servers are ignored`)
      continue
    }
    const root = parsed.value
    const list = isRecord(root) ? root["mcpServers"] : undefined
    if (!isRecord(root) || (list !== undefined && !isRecord(list))) {
      issues.push(`${file.path}: expected {"mcpServers": {"NAME": {…}}}; its MCP servers are ignored`)
      continue
    }
    for (const [name, value] of Object.entries(list ?? {})) {
      const server = readServer(name, value, file, env, issues)
      if (server === undefined) continue
      const earlier = servers.get(name)
      if (earlier !== undefined && earlier.source.scope === "personal" && file.scope === "project") {
        issues.push(`${file.path}: mcpServers.${name} is ignored: ~/.factory/mcp.json defines a server of that name, which wins`)
        continue
      }
      servers.set(name, server)
    }
  }
  // Two names that become one slug would give their tools the same names: the later is said and left out.
  const bySlug = new Map<string, string>()
  const out: Array<McpServer> = []
  for (const server of servers.values()) {
    const taken = bySlug.get(server.slug)
    if (taken !== undefined) {
      issues.push(`${server.source.path}: mcpServers.${server.name} is ignored: its tool names would be those of "${taken}" (rename one)`)
      continue
    }
    bySlug.set(server.slug, server.name)
    out.push(server)
  }
  return { servers: out, issues }
}

/** The environment a stdio server starts with: the harmless variables byok has, then its own `env`. */
export const serverEnvironment = (server: McpServer, env: Readonly<Record<string, string | undefined>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name of INHERITED_ENV) {
    const value = env[name]
    if (value !== undefined) out[name] = value
  }
  return { ...out, ...server.env }
}

// ---- byok mcp add / remove: the user's ~/.factory/mcp.json ------------------------------------------------------

/** The file's JSON object (an empty one when it does not exist), or why it cannot be changed. */
const readRoot = (path: string): Record<string, unknown> | string => {
  if (!existsSync(path)) return {}
  const parsed = parseJson(readFileSync(path, "utf8"))
  if (!parsed.ok) return `${path}:${parsed.line}:${parsed.column}: ${parsed.detail}; fix it first`
  if (!isRecord(parsed.value)) return `${path}: expected a JSON object; fix it first`
  const list = parsed.value["mcpServers"]
  if (list !== undefined && !isRecord(list)) return `${path}: "mcpServers" must be an object; fix it first`
  return parsed.value
}

/** Writes the file whole (a temporary file, then renamed), private: it may hold tokens. */
const writeRoot = (path: string, root: Record<string, unknown>): void => {
  privateDirectory(dirname(path))
  const temp = `${path}.${process.pid}.tmp`
  writeFileSync(temp, `${JSON.stringify(root, null, 2)}\n`, { mode: PRIVATE_FILE })
  renameSync(temp, path)
}

/** Adds or replaces a server; returns an error text, or undefined when written. Other fields are kept. */
export const addServer = (path: string, name: string, entry: Record<string, unknown>): string | undefined => {
  const root = readRoot(path)
  if (typeof root === "string") return root
  const list = (root["mcpServers"] as Record<string, unknown> | undefined) ?? {}
  writeRoot(path, { ...root, mcpServers: { ...list, [name]: entry } })
  return undefined
}

/** Removes a server; "missing" when the file has none of that name. */
export const removeServer = (path: string, name: string): string | "missing" | undefined => {
  const root = readRoot(path)
  if (typeof root === "string") return root
  const list = { ...((root["mcpServers"] as Record<string, unknown> | undefined) ?? {}) }
  if (!Object.hasOwn(list, name)) return "missing"
  delete list[name]
  writeRoot(path, { ...root, mcpServers: list })
  return undefined
}
