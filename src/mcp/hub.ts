// The configured MCP servers for one run of byok: their tools, offered to the model beside the built-in ones, and
// their lifecycle. A server's tool list is cached in the data directory (mcp-tools.json), keyed by its configuration,
// so a run whose lists are cached sends its first request at once and starts a server only when the model calls one
// of its tools; a server with no cached list is started (and listed) before the first request. A server that fails
// to start, crashes or hangs gives the model a tool error and the user one line on stderr; byok goes on.
import type { authFor } from "./oauth.ts"
import { loadTokens, tokenKey, tokensFile } from "./tokens.ts"
import { count } from "../lib/text.ts"
import { Effect, Exit, Scope, Semaphore } from "effect"
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { pathToFileURL } from "node:url"
import { type Elicitation, type ElicitResult, readElicitation } from "./elicit.ts"
import type { Answer, ServerHooks } from "./rpc.ts"
import { PRIVATE_FILE, privateDirectory } from "../lib/sqlite.ts"
import type { Risk } from "../sandbox/levels.ts"
import { type BuiltinTool, failed, headAndTail } from "../tools/tool.ts"
import type { CallResult, Connection, PromptInfo, RawTool } from "./client.ts"
import { type McpServer, serverEnvironment } from "./config.ts"

/** How long a call may take, and a server to start and list its tools: BYOK_MCP_TIMEOUT seconds. */
export const DEFAULT_MCP_TIMEOUT_S = 60
/** A server that has failed to start this many times in a run is not started again in that run. */
const MAX_STARTS = 3

export type ServerStatus = "disabled" | "cached" | "running" | "failed" | "not listed"

export interface ServerState {
  readonly server: McpServer
  /** The tools as last listed (from the cache until the server runs). */
  tools: ReadonlyArray<RawTool> | undefined
  /** When `tools` were listed. */
  listedAt: string | undefined
  /** Why its last start or call failed; cleared by a start that succeeds. */
  error: string | undefined
  connection: Connection | undefined
  scope: Scope.Closeable | undefined
  starts: number
  /** The list being read again after `notifications/tools/list_changed`; a call waits for it before it returns. */
  relisting: Promise<void> | undefined
  /** Its prompts as last listed (from the cache until the server runs). */
  prompts: ReadonlyArray<PromptInfo> | undefined
  /** An HTTP server's OAuth tokens, made at its first start. */
  auth?: ReturnType<typeof authFor> | undefined
}

export interface HubOptions {
  readonly dataDir: string | undefined
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly timeoutMs: number
  readonly redact: (text: string) => string
  /** One line to the user (stderr). */
  readonly warn: (text: string) => Effect.Effect<void>
  /** A secret learned while running (an OAuth token): the redactor keeps it out of every output. */
  readonly addSecret: (secret: string) => void
  /**
   * A server's question (elicitation/create, form mode): the chat asks the user, exec answers by its flag. Declared
   * to servers as a capability only with `declare`; without `elicit` (or in URL mode) a question is declined, and said.
   */
  /** A server's progress on a call, in words (`3/10 copying`): the chat shows it on the call's line. */
  readonly onProgress?: ((server: string, text: string) => void) | undefined
  readonly elicit?: {
    readonly declare: boolean
    /** Whether URL mode is answered (the chat: the page opened with the person's leave); else it is declined. */
    readonly urls?: boolean | undefined
    readonly answer: (form: Elicitation) => Effect.Effect<ElicitResult>
  } | undefined
}

export interface McpHub {
  readonly states: ReadonlyArray<ServerState>
  /** The tools of the servers that are enabled and listed, as byok's tools (the model sees `mcp__server__tool`). */
  readonly tools: () => ReadonlyArray<BuiltinTool>
  /** Starts the servers whose tools are not cached, at once, to list them; failures are said, not raised. */
  readonly prepare: () => Effect.Effect<void>
  /** Starts one server (if it is not running) and lists its tools; false, with the reason in its state, if it fails. */
  readonly start: (state: ServerState) => Effect.Effect<boolean>
  /** Stops every server byok started. */
  readonly close: Effect.Effect<void>
  /** A prompt of a server (a chat command): its messages as one text, through the redactor, or why not. */
  readonly getPrompt: (server: string, prompt: string, args: Record<string, string>) => Effect.Effect<string, string>
  /** A resource of a server by its name (`--resource SERVER:URI`): its text, through the redactor, or why not. */
  readonly readResource: (server: string, uri: string) => Effect.Effect<string, string>
  /** An HTTP server's OAuth login as kept in the token store (never its tokens' values). */
  readonly login: (state: ServerState) => { readonly expiresAt: number | undefined; readonly refreshable: boolean } | undefined
}

/** A server's state in one word, from what is known of it. */
export const statusOf = (state: ServerState): ServerStatus =>
  state.server.disabled
    ? "disabled"
    : state.connection !== undefined && state.connection.ended() === undefined
    ? "running"
    : state.error !== undefined
    ? "failed"
    : state.tools !== undefined
    ? "cached"
    : "not listed"

// ---- the cache -------------------------------------------------------------------------------------------------

interface CacheEntry {
  readonly server: string
  readonly listedAt: string
  readonly tools: ReadonlyArray<RawTool>
  /** Its prompts (chat commands), when it offers any. */
  readonly prompts?: ReadonlyArray<PromptInfo> | undefined
}

const cacheFile = (dataDir: string) => join(dataDir, "mcp-tools.json")

const readCache = (dataDir: string | undefined): Record<string, CacheEntry> => {
  if (dataDir === undefined) return {}
  try {
    const value = JSON.parse(readFileSync(cacheFile(dataDir), "utf8")) as unknown
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, CacheEntry>) : {}
  } catch {
    return {}
  }
}

const writeCache = (dataDir: string | undefined, key: string, entry: CacheEntry): void => {
  if (dataDir === undefined) return
  try {
    privateDirectory(dataDir)
    const cache = { ...readCache(dataDir), [key]: entry }
    const temp = `${cacheFile(dataDir)}.${process.pid}.tmp`
    writeFileSync(temp, JSON.stringify(cache), { mode: PRIVATE_FILE })
    renameSync(temp, cacheFile(dataDir))
  } catch {
    // A cache that cannot be written costs a start next time, nothing more.
  }
}

/** Where a server's log is: its stderr and byok's notes (only a stdio server has one of its own). */
const logPathOf = (dataDir: string, server: McpServer): string => join(dataDir, "mcp-logs", `${server.slug}.log`)

/** The log, made ready for a start: its private folder made, and kept to about 1 MiB (the older half dropped). */
const openLog = (dataDir: string | undefined, server: McpServer): string | undefined => {
  if (dataDir === undefined) return undefined
  const file = logPathOf(dataDir, server)
  try {
    privateDirectory(join(dataDir, "mcp-logs"))
    if (existsSync(file) && statSync(file).size > 1024 * 1024) {
      writeFileSync(file, readFileSync(file, "utf8").slice(-512 * 1024), { mode: PRIVATE_FILE })
    }
    return file
  } catch {
    return undefined
  }
}

// ---- tools -------------------------------------------------------------------------------------------------------

/** The name the model calls: `mcp__server__tool`, within the 64 characters every API allows. */
export const toolNameOf = (server: McpServer, tool: string): string =>
  `mcp__${server.slug}__${tool.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 64)

/**
 * A tool's risk from the MCP annotations: read-only is "read"; not destructive (`destructiveHint: false`) is "low";
 * destructive, said or implied (`readOnlyHint: false` with no `destructiveHint`, as the spec's default), is "high";
 * no annotations at all is "medium".
 */
export const riskOfAnnotations = (annotations: Readonly<Record<string, unknown>> | undefined): { readonly risk: Risk; readonly why: string } => {
  const readOnly = annotations?.["readOnlyHint"]
  const destructive = annotations?.["destructiveHint"]
  if (readOnly === true) return { risk: "read", why: "the server marks this tool read-only" }
  if (destructive === false) return { risk: "low", why: "the server marks this tool as not destructive" }
  if (destructive === true || readOnly === false) return { risk: "high", why: "the server marks this tool as one that may change or delete things" }
  return { risk: "medium", why: "the server does not say what this tool changes" }
}

const schemaOf = (input: unknown): Record<string, unknown> =>
  typeof input === "object" && input !== null && !Array.isArray(input) && (input as Record<string, unknown>)["type"] === "object"
    ? (input as Record<string, unknown>)
    : { type: "object", properties: {} }

const subjectOf = (args: Record<string, unknown>): string => {
  const text = JSON.stringify(args)
  return text === "{}" ? "" : text.length > 100 ? `${text.slice(0, 97)}…` : text
}

export const makeHub = (servers: ReadonlyArray<McpServer>, options: HubOptions): Effect.Effect<McpHub> =>
  Effect.gen(function*() {
    const cache = readCache(options.dataDir)
    const scope = yield* Scope.make()
    const states: Array<ServerState> = servers.map((server) => {
      const cached = cache[server.key]
      return {
        server,
        tools: cached?.tools,
        prompts: cached?.prompts,
        listedAt: cached?.listedAt,
        error: undefined,
        connection: undefined,
        scope: undefined,
        starts: 0,
        relisting: undefined
      }
    })
    const said = new Set<string>()
    const tell = (state: ServerState, why: string) => {
      const line = `MCP server "${state.server.name}": ${why}${logHint(state)}`
      if (said.has(line)) return Effect.void
      said.add(line)
      return options.warn(line)
    }
    const logHint = (state: ServerState) =>
      options.dataDir !== undefined && state.server.type === "stdio" ? ` (its log: ${logPathOf(options.dataDir, state.server)})` : ""

    const remember = (state: ServerState, tools: ReadonlyArray<RawTool>) => {
      state.tools = tools
      state.prompts = state.connection?.prompts() ?? state.prompts
      state.listedAt = new Date().toISOString()
      writeCache(options.dataDir, state.server.key, { server: state.server.name, listedAt: state.listedAt, tools, prompts: state.prompts })
    }

    // The tools changed on the server: listed again, and the call that is running waits for it, so the next
    // request offers the new list.
    const relist = (state: ServerState) => {
      const connection = state.connection
      if (connection === undefined || state.relisting !== undefined) return
      state.relisting = Effect.runPromise(connection.relist.pipe(
        Effect.tap((tools) => Effect.sync(() => remember(state, tools))),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => {
          state.relisting = undefined
        }))
      ))
    }
    const settled = (state: ServerState) =>
      Effect.suspend(() =>
        state.relisting === undefined ? Effect.void : Effect.promise(() => state.relisting!).pipe(Effect.timeoutOption(options.timeoutMs), Effect.asVoid)
      )

    /** A server's own requests: the working directory as its root, and its questions to the user. */
    const hooksFor = (state: ServerState): ServerHooks => ({
      answer: (method, params): Promise<Answer> | undefined => {
        if (method === "roots/list") {
          return Promise.resolve({ result: { roots: [{ uri: pathToFileURL(options.cwd).href, name: basename(options.cwd) }] } })
        }
        if (method !== "elicitation/create") return undefined
        const form = readElicitation(state.server.name, params)
        const decline = (why: string) => Effect.runPromise(tell(state, `asked ${why}: declined`).pipe(Effect.as({ result: { action: "decline" } })))
        if (typeof form === "string") return decline(`for ${form}`)
        if (options.elicit === undefined) return decline("a question, which byok does not answer here")
        if (form.url !== undefined && options.elicit.urls !== true) return decline("to open a page, which byok does not do here")
        return Effect.runPromise(options.elicit.answer(form)).then((result) => ({ result }))
      },
      notified: (method, params) => {
        if (method !== "notifications/progress" || options.onProgress === undefined) return
        const number = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined)
        const progress = number(params["progress"])
        const total = number(params["total"])
        const message = typeof params["message"] === "string" ? params["message"] : ""
        if (progress === undefined) return
        options.onProgress(state.server.name, `${progress}${total !== undefined ? `/${total}` : ""}${message !== "" ? ` ${message}` : ""}`)
      }
    })
    const capabilities = {
      roots: {},
      ...(options.elicit?.declare === true ? { elicitation: options.elicit.urls === true ? { form: {}, url: {} } : { form: {} } } : {})
    }

    const locks = new Map(states.map((s) => [s, Semaphore.makeUnsafe(1)]))
    /** The running connection, started when there is none (one start at a time per server). */
    const ensure = (state: ServerState): Effect.Effect<Connection, string> =>
      Semaphore.withPermit(locks.get(state)!)(Effect.gen(function*() {
        const running = state.connection
        if (running !== undefined && running.ended() === undefined) return running
        if (running !== undefined) {
          state.connection = undefined
          if (state.scope !== undefined) yield* Scope.close(state.scope, Exit.void)
        }
        if (state.starts >= MAX_STARTS) return yield* Effect.fail(`not started again: it failed ${MAX_STARTS} times in this run (${state.error ?? "see above"})`)
        state.starts++
        const { connect } = yield* Effect.promise(() => import("./client.ts"))
        // (OAuth, and node:crypto with it, is loaded only when an HTTP server starts.)
        const { authFor } = state.server.type === "http" ? yield* Effect.promise(() => import("./oauth.ts")) : { authFor: undefined }
        const child = yield* Scope.fork(scope)
        const connection = yield* connect(state.server, {
          env: serverEnvironment(state.server, options.env),
          cwd: options.cwd,
          logFile: openLog(options.dataDir, state.server),
          startTimeoutMs: options.timeoutMs,
          onListChanged: () => relist(state),
          hooks: hooksFor(state),
          capabilities,
          redact: options.redact,
          ...(authFor !== undefined ? { auth: state.auth ??= authFor({
            server: state.server,
            file: options.dataDir !== undefined ? tokensFile(options.dataDir) : undefined,
            // a login with a browser runs where the user said how to open one ($BROWSER); else they are told the command
            interactive: (options.env["BROWSER"] ?? "") !== "",
            tell: (text) => Effect.runFork(options.warn(text)),
            secret: options.addSecret
          }) } : {})
        }).pipe(
          Scope.provide(child),
          Effect.timeoutOrElse({
            duration: options.timeoutMs + 1000,
            orElse: () => Effect.fail(`did not start within ${Math.round(options.timeoutMs / 1000)} s (BYOK_MCP_TIMEOUT sets the limit)`)
          }),
          Effect.tapError((why) =>
            Effect.sync(() => {
              state.error = why
            })
          ),
          // Failed or stopped (Ctrl-C, the limit): whatever it started is stopped now.
          Effect.onExit((exit) => (exit._tag === "Success" ? Effect.void : Scope.close(child, exit)))
        )
        state.connection = connection
        state.scope = child
        state.error = undefined
        // (A list_changed during the start came before the connection was known: this list is fresh anyway.)
        remember(state, connection.tools())
        return connection
      }))

    const call = (state: ServerState, tool: RawTool, args: Record<string, unknown>, again = true): Effect.Effect<CallResult, string> =>
      Effect.flatMap(ensure(state), (connection) =>
        connection.call(tool.name, args, options.timeoutMs).pipe(
          Effect.tapError(() =>
            Effect.sync(() => {
              // The process ended under the call: it is started again for the next one.
              state.error = connection.ended() ?? state.error
            })
          ),
          // An HTTP server that forgot the session (404): initialised again, once, and the call made again.
          Effect.catch((why: string) => again && connection.expired() ? call(state, tool, args, false) : Effect.fail(why))
        ))

    const adapt = (state: ServerState, tool: RawTool): BuiltinTool => {
      const { risk, why } = riskOfAnnotations(tool.annotations)
      const description = `${tool.description ?? ""}`.slice(0, 4000)
      return {
        definition: {
          name: toolNameOf(state.server, tool.name),
          description: `${description}${description !== "" ? "\n\n" : ""}(from the MCP server "${state.server.name}")`,
          parameters: schemaOf(tool.inputSchema)
        },
        readOnly: risk === "read",
        risk: () => ({ risk, why }),
        subject: subjectOf,
        run: (args) =>
          call(state, tool, args).pipe(
            Effect.tap(() => settled(state)),
            Effect.map((result) => ({
              output: headAndTail(result.text),
              isError: result.isError,
              ...(result.images.length > 0 ? { images: result.images } : {}),
              summary: result.isError ? "the tool reported an error" : count(result.text.split("\n").length, "line")
            })),
            Effect.catch((why: string) =>
              Effect.as(
                tell(state, why),
                failed(`The MCP server "${state.server.name}" could not run ${tool.name}: ${why}. Go on without this tool, or tell the user.`, `MCP server failed: ${why}`)
              )
            )
          )
      }
    }

    // Two tools whose names become one (after the characters APIs refuse are replaced, or the cut at 64): the
    // first is offered; an API would refuse the request with both.
    const tools = (): ReadonlyArray<BuiltinTool> => {
      const byName = new Map<string, BuiltinTool>()
      for (const state of states) {
        if (state.server.disabled || state.tools === undefined) continue
        for (const tool of state.tools) {
          if (state.server.disabledTools.includes(tool.name)) continue
          const adapted = adapt(state, tool)
          if (!byName.has(adapted.definition.name)) byName.set(adapted.definition.name, adapted)
        }
      }
      return [...byName.values()]
    }

    const prepare = () =>
      Effect.forEach(
        states.filter((s) => !s.server.disabled && s.tools === undefined),
        (state) => ensure(state).pipe(Effect.catch((why: string) => tell(state, `${why}; its tools are not offered`))),
        { concurrency: 4, discard: true }
      )

    /** A server by its name, started if it is not running. */
    const running = (name: string): Effect.Effect<Connection, string> => {
      const state = states.find((s) => s.server.name === name)
      if (state === undefined) return Effect.fail(`no MCP server is named "${name}" (the servers: ${states.map((s) => s.server.name).join(", ") || "none"})`)
      if (state.server.disabled) return Effect.fail(`the MCP server "${name}" is disabled`)
      return ensure(state)
    }

    return {
      states,
      tools,
      prepare,
      start: (state) => ensure(state).pipe(Effect.as(true), Effect.catch(() => Effect.succeed(false))),
      close: Scope.close(scope, Exit.void),
      readResource: (name, uri) =>
        Effect.flatMap(running(name), (c) => c.read(uri, options.timeoutMs)).pipe(Effect.map(options.redact)),
      getPrompt: (name, prompt, args) =>
        Effect.flatMap(running(name), (c) => c.prompt(prompt, args, options.timeoutMs)).pipe(Effect.map(options.redact)),
      login: (state) => {
        if (state.server.type !== "http" || options.dataDir === undefined) return undefined
        const tokens = loadTokens(tokensFile(options.dataDir), tokenKey(state.server))
        return tokens === undefined ? undefined : { expiresAt: tokens.expiresAt, refreshable: tokens.refreshToken !== undefined }
      }
    } satisfies McpHub
  })
