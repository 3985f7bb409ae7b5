// One connection to one MCP server, over effect/ai's McpClient (initialization, discovery, tool calls, their
// validation). Loaded only when a server is started: a run whose tool lists are cached never loads it.
//
// The transports are byok's own under effect's client (rpc.ts holds what they share; http.ts is Streamable HTTP).
// effect's stdio transport drops the server's stderr (here appended to a log file in the data directory), server
// notifications (here list_changed, progress and logging reach byok) and a line of stdout that is not JSON-RPC
// (effect ends the connection; here it is logged and skipped, as servers that print a banner on stdout are common);
// its HTTP transport cannot resume a stream or take a server's requests (http.ts says more). Every request can be
// interrupted: the server is sent `notifications/cancelled` for it.
import { Effect, Exit, Scope } from "effect"
import * as McpClient from "effect/ai/McpClient"
import { HttpError, McpClientError, TimeoutError } from "effect/ai/McpClientError"
import * as McpProtocol from "effect/ai/McpProtocol"
import type * as McpSchema from "effect/ai/McpSchema"
import { VERSION } from "../version.ts"
import type { ImagePart } from "../providers/conversation.ts"
import { imageFromBytes } from "../providers/images.ts"
import type { McpServer } from "./config.ts"
import { SESSION_EXPIRED, streamableTransport } from "./http.ts"
import { channel, eachLine, type Log, logTo, problem, type Protocol, type ServerHooks, sseLines } from "./rpc.ts"
import { mcpFetch } from "./net.ts"

/** A tool as the server listed it, with its annotations as written (the decoded ones have defaults filled in). */
export interface RawTool {
  readonly name: string
  readonly description?: string | undefined
  readonly inputSchema: unknown
  readonly annotations?: Readonly<Record<string, unknown>> | undefined
}

export interface CallResult {
  readonly text: string
  readonly isError: boolean
  /** The images it returned (PNG, JPEG, GIF, WebP), for the model to see after the results. */
  readonly images: ReadonlyArray<ImagePart>
}

export interface Connection {
  readonly tools: () => ReadonlyArray<RawTool>
  /** Lists the tools again (after `notifications/tools/list_changed`). */
  readonly relist: Effect.Effect<ReadonlyArray<RawTool>, string>
  readonly call: (name: string, args: Record<string, unknown>, timeoutMs: number) => Effect.Effect<CallResult, string>
  /** Why the connection ended (the process exited, the stream closed), once it has. */
  readonly ended: () => string | undefined
  /** Whether it ended because the server forgot the session (an HTTP 404): worth one new start for the call. */
  readonly expired: () => boolean
  /** The server's resources and prompts, as listed when it started (none when it offers none). */
  readonly resources: () => ReadonlyArray<{ readonly uri: string; readonly name: string; readonly description?: string | undefined }>
  readonly prompts: () => ReadonlyArray<PromptInfo>
  /** A prompt's messages as the text of one user message (each message's text, then its embedded resources'). */
  readonly prompt: (name: string, args: Record<string, string>, timeoutMs: number) => Effect.Effect<string, string>
  /** A resource's contents as text (a binary part named, not shown). */
  readonly read: (uri: string, timeoutMs: number) => Effect.Effect<string, string>
}

/** A server's prompt: its name, what it does, and its arguments in order. */
export interface PromptInfo {
  readonly name: string
  readonly description?: string | undefined
  readonly arguments: ReadonlyArray<{ readonly name: string; readonly required: boolean }>
}

export interface ConnectOptions {
  readonly env: Readonly<Record<string, string>>
  readonly cwd: string
  /** Where the server's stderr and byok's notes about it go, through `redact`. */
  readonly logFile: string | undefined
  /** The key redactor: nothing byok writes to the log carries a secret it knows. */
  readonly redact: (text: string) => string
  readonly startTimeoutMs: number
  readonly onListChanged: () => void
  /** The server's requests (elicitation, roots) and notifications (progress, logging) byok takes. */
  readonly hooks?: ServerHooks | undefined
  /** The capabilities byok declares in initialize (those the hooks handle). */
  readonly capabilities?: Readonly<Record<string, unknown>> | undefined
  /** An HTTP server's OAuth tokens (mcp/oauth.ts through the hub). */
  readonly auth?: Auth | undefined
}

export interface Auth {
  /** The access token to send now (refreshed first when it is about to expire); undefined without a login. */
  readonly token: () => Promise<string | undefined>
  /** After a 401 or 403: a new access token (a refresh, else a login where one may run), or why there is none. */
  readonly renew: (challenge: string | undefined, status: number) => Promise<string | { readonly why: string }>
}

const LATEST: Protocol = McpProtocol.v2025_11_25
/**
 * The older revisions a server may answer `initialize` with. effect's client takes one revision and refuses a
 * server that answers another; these share its stateful shape (initialize, then tools/list and tools/call), so a
 * server that speaks one of them is gone on with (connect).
 */
const OLDER: ReadonlySet<string> = new Set(["2025-06-18", "2025-03-26", "2024-11-05"])

/** Every server process byok started and has not seen end: stopped when byok exits, whatever the way. */
const live = new Set<Bun.Subprocess>()
let exitHook = false
const stopAllOnExit = () => {
  if (exitHook) return
  exitHook = true
  process.on("exit", () => {
    for (const child of live) {
      try {
        child.kill("SIGTERM")
      } catch {
        // already gone
      }
    }
  })
}

/** A stdio server: a child process, stdin and stdout carrying one JSON-RPC message per line. */
const stdioTransport = (server: McpServer, options: ConnectOptions, protocol: Protocol, log: Log) =>
  Effect.gen(function*() {
    let child: Bun.Subprocess<"pipe", "pipe", "pipe">
    try {
      child = Bun.spawn([server.command!, ...server.args], {
        cwd: options.cwd,
        env: options.env,
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe"
      })
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      return yield* Effect.fail(problem(
        code === "ENOENT"
          ? `cannot start "${server.command}": no such program (is it installed and on PATH?)`
          : `cannot start "${server.command}": ${(error as Error).message}`
      ))
    }
    stopAllOnExit()
    live.add(child)
    // Its stderr, line by line through the redactor (a secret is never split by a line's end), to the log.
    void eachLine(child.stderr, (line) => log.raw(`${line}\n`), () => log.note("a line of stderr longer than 16 MiB: the rest is not logged"))
    const rpc = channel({
      protocol,
      send: (json) => {
        try {
          child.stdin.write(`${json}\n`)
          child.stdin.flush()
        } catch {
          // the exit below says why
        }
      },
      log,
      onListChanged: options.onListChanged,
      hooks: options.hooks
    })
    // stdout, line by line; the process's end fails whatever is still waiting.
    void eachLine(child.stdout, rpc.receiveLine, () => {
      log.note("a message longer than 16 MiB: stopped the server")
      child.kill("SIGKILL")
    }).then(async () => {
      const code = await child.exited
      live.delete(child)
      const why = child.signalCode !== null ? `the server was ended by ${child.signalCode}` : `the server exited (code ${code})`
      log.note(why)
      rpc.end(why)
    })
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        rpc.end("the connection was closed")
        try {
          child.stdin.end()
        } catch {
          // already closed
        }
        // MCP's stdio shutdown: close stdin, then SIGTERM, then SIGKILL, half a second apart.
        const exitedSoon = () => Promise.race([child.exited.then(() => true), Bun.sleep(500).then(() => false)])
        if (!(await exitedSoon())) {
          child.kill("SIGTERM")
          if (!(await exitedSoon())) child.kill("SIGKILL")
        }
        live.delete(child)
      })
    )
    return rpc
  })

/**
 * The legacy HTTP+SSE transport (MCP 2024-11-05), which droid keeps for older servers: a GET opens an event stream
 * whose first `endpoint` event names where to POST messages; responses come back on the stream.
 */
const sseTransport = (server: McpServer, options: ConnectOptions, protocol: Protocol, log: Log) =>
  Effect.gen(function*() {
    const controller = new AbortController()
    let endpoint: string | undefined
    const posts: Array<string> = []
    const post = (json: string) => {
      if (endpoint === undefined) {
        posts.push(json)
        return
      }
      void mcpFetch(endpoint, {
        method: "POST",
        redirect: "manual",
        headers: { ...server.headers, "content-type": "application/json" },
        body: json,
        signal: controller.signal
      }).then((r) => {
        // (aborted at shutdown, the cancel rejects: nothing to say then)
        r.body?.cancel().catch(() => {})
        if (!r.ok) rpc.refuse(json, `the server answered ${r.status} to a message`)
      }).catch((error: Error) => rpc.end(`cannot send to ${endpoint}: ${error.message}`))
    }
    const rpc = channel({ protocol, send: post, log, onListChanged: options.onListChanged, hooks: options.hooks })
    const response = yield* Effect.tryPromise({
      try: () => mcpFetch(server.url!, { headers: { ...server.headers, accept: "text/event-stream" }, redirect: "manual", signal: controller.signal }),
      catch: (error) => problem(`cannot reach ${server.url}: ${(error as Error).message}`)
    })
    if (!response.ok || response.body === null) {
      response.body?.cancel().catch(() => {})
      return yield* Effect.fail(problem(`${server.url} answered ${response.status} to the event-stream request`))
    }
    yield* Effect.addFinalizer(() => Effect.sync(() => {
      rpc.end("the connection was closed")
      controller.abort()
    }))
    const ready = Promise.withResolvers<void>()
    // The event stream: `endpoint` once, then `message` events.
    const onLine = sseLines((event) => {
      if (event.event === "endpoint") {
        endpoint = new URL(event.data, server.url).href
        for (const queued of posts.splice(0)) post(queued)
        ready.resolve()
      } else if (event.event === "message" && event.data !== "") rpc.receiveLine(event.data)
    })
    void eachLine(response.body, onLine, () => rpc.end("an event longer than 16 MiB")).then(() => {
      rpc.end("the server closed the event stream")
      ready.resolve()
    })
    yield* Effect.promise(() => ready.promise)
    if (rpc.ended() !== undefined) return yield* Effect.fail(problem(rpc.ended()!))
    return rpc
  })

/** At most this many images of one result go to the model; more are named in the text only. */
const MAX_IMAGES = 4

/**
 * A tool result as a model reads it: text parts, embedded text and links as text; images (PNG, JPEG, GIF, WebP) as
 * images, each named in the text where it came; anything else (audio, binary resources, other image types) as a
 * line saying what was not shown.
 */
export const resultOf = (result: McpSchema.CallToolResult): { readonly text: string; readonly images: ReadonlyArray<ImagePart> } => {
  const parts: Array<string> = []
  const images: Array<ImagePart> = []
  // (effect's schema has decoded the base64 already: `data` is the bytes.)
  const size = (bytes: Uint8Array) => `${Math.max(1, Math.round(bytes.length / 1024))} KiB`
  for (const block of result.content) {
    switch (block.type) {
      case "text":
        parts.push(block.text)
        break
      case "resource_link":
        parts.push(`${block.title ?? block.name}: ${block.uri}`)
        break
      case "resource":
        parts.push("text" in block.resource ? block.resource.text : `[binary resource ${block.resource.uri}, not shown]`)
        break
      case "image": {
        const image = images.length < MAX_IMAGES ? imageFromBytes(block.data) : "more images than byok sends from one result"
        if (typeof image === "string") parts.push(`[image (${block.mimeType}, ${size(block.data)}), not shown: ${image}]`)
        else {
          images.push(image)
          parts.push(`[image ${images.length} (${image.mediaType}, ${size(block.data)}): attached after the results]`)
        }
        break
      }
      case "audio":
        parts.push(`[audio (${block.mimeType}, ${size(block.data)}), not shown]`)
        break
    }
  }
  const text = parts.length === 0 && result.structuredContent !== undefined ? JSON.stringify(result.structuredContent) : parts.join("\n")
  return { text, images }
}

/** The innermost message of a cause chain (an HTTP client error wraps the socket's), with its code when it has one. */
const causeText = (cause: unknown): string | undefined => {
  let text: string | undefined
  for (let c = cause, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) {
    const code = (c as NodeJS.ErrnoException).code
    text = `${c.message}${typeof code === "string" && !c.message.includes(code) ? ` (${code})` : ""}`
  }
  return text
}

/** What an MCP failure says to a model and a user. */
export const describe = (error: unknown): string => {
  if (error instanceof McpClientError) {
    const reason = error.reason
    if (reason instanceof TimeoutError) return `no answer within the time allowed (${reason.message})`
    // A 401 with a Bearer challenge: the server wants an OAuth login, not a fixed token (RFC 6750, MCP authorization).
    if (reason instanceof HttpError && reason.status === 401 && /^\s*Bearer\b/i.test(reason.wwwAuthenticate ?? "")) {
      const metadata = /resource_metadata="?([^",\s]+)/i.exec(reason.wwwAuthenticate!)?.[1]
      return `${reason.message}: the server asks for an OAuth login${metadata !== undefined ? ` (its metadata: ${metadata})` : ""}`
    }
    // A transport failure's own words are general ("MCP HTTP request failed"): the cause says what happened.
    const cause = "cause" in reason ? causeText(reason.cause) : undefined
    return cause !== undefined && !reason.message.includes(cause) ? `${reason.message}: ${cause}` : reason.message
  }
  return error instanceof Error ? error.message : String(error)
}

/**
 * Starts (or reaches) the server, initializes, and lists its tools. The scope owns the process or stream. A server
 * that answers initialize with an older protocol revision byok knows goes on with that revision, as the spec lets a
 * client: one start, one initialize (effect's client would refuse it: byok tells it the revision it asked for, and
 * sends the server's own in the HTTP header from then on).
 */
export const connect = (server: McpServer, options: ConnectOptions): Effect.Effect<Connection, string, Scope.Scope> =>
  Effect.gen(function*() {
    const log = logTo(options.logFile, options.redact)
    /** The revision the server answered initialize with. */
    let answered: string | undefined
    /** An HTTP server's bearer token (OAuth), and the last challenge it answered with (a 401 or 403). */
    let bearer = server.type === "http" && options.auth !== undefined ? yield* Effect.promise(() => options.auth!.token()) : undefined
    let challenge: { readonly status: number; readonly header: string | undefined } | undefined
    const outer = yield* Scope.Scope
    const attempt = Effect.gen(function*() {
      // A failed start is closed at once (its process stopped); an interrupted one when the caller's scope is.
      const scope = yield* Scope.fork(outer)
      challenge = undefined
      return yield* connectWith(server, options, LATEST, log, (version) => {
        answered = version
        if (version !== LATEST.protocolVersion && OLDER.has(version)) log.note(`the server speaks MCP ${version}: going on with it`)
      }, () => (answered !== undefined && OLDER.has(answered) ? answered : undefined), () => bearer, (status, header) => {
        challenge = { status, header }
      }, options.auth === undefined ? undefined : (header) =>
        Effect.promise(() => options.auth!.renew(header, 403)).pipe(Effect.map((renewed) => {
          if (typeof renewed !== "string") return false
          bearer = renewed
          return true
        }))).pipe(Scope.provide(scope), Effect.tapError(() => Scope.close(scope, Exit.void)))
    })
    return yield* attempt.pipe(
      // A 401 (or a 403 for more scope): new tokens (a refresh, else a login where one may run), then once more.
      Effect.catch((why: string) =>
        Effect.gen(function*() {
          if (challenge === undefined || options.auth === undefined) return yield* Effect.fail(why)
          const renewed = yield* Effect.promise(() => options.auth!.renew(challenge!.header, challenge!.status))
          if (typeof renewed !== "string") return yield* Effect.fail(renewed.why)
          bearer = renewed
          return yield* attempt
        })
      ),
      Effect.mapError((why) =>
        answered !== undefined && answered !== LATEST.protocolVersion && !OLDER.has(answered)
          ? `${why} (the server speaks MCP ${answered}, which byok does not)`
          : why
      )
    )
  })

const connectWith = (
  server: McpServer,
  options: ConnectOptions,
  protocol: Protocol,
  log: Log,
  onVersion: (version: string) => void,
  /** The older revision the server took up, once it has: sent in the HTTP header instead of the one asked for. */
  older: () => string | undefined,
  /** The OAuth bearer token to send, when there is one. */
  bearer: () => string | undefined = () => undefined,
  /** Told of a 401 or 403 and its WWW-Authenticate. */
  onChallenge: (status: number, header: string | undefined) => void = () => {},
  /** A call refused for want of scope: new tokens with more (true), or none to be had (false). */
  stepUp?: ((challenge: string | undefined) => Effect.Effect<boolean>) | undefined
) =>
  Effect.gen(function*() {
    log.note(`starting ${server.type === "stdio" ? [server.command, ...server.args].join(" ") : server.url}`)
    // The server's logging notifications go to its log (through the redactor, as everything there).
    const given = options.hooks
    /** The running calls' deadlines, each started again by the server's progress. */
    const resets = new Set<() => void>()
    options = {
      ...options,
      hooks: {
        answer: given?.answer,
        notified: (method, params) => {
          // A call's progress: the server is alive, so every running call's time starts again.
          if (method === "notifications/progress") for (const reset of resets) reset()
          if (method === "notifications/message") {
            const data = typeof params["data"] === "string" ? params["data"] : JSON.stringify(params["data"] ?? null)
            log.note(`${String(params["level"] ?? "info")}${typeof params["logger"] === "string" ? ` ${params["logger"]}` : ""}: ${data.slice(0, 4000).replace(/[\r\n]+/g, " ")}`)
          }
          given?.notified?.(method, params)
        }
      }
    }
    const base = server.type === "stdio"
      ? yield* stdioTransport(server, options, protocol, log)
      : server.type === "sse"
      ? yield* sseTransport(server, options, protocol, log)
      : yield* streamableTransport(server, {
        protocol,
        log,
        onListChanged: options.onListChanged,
        hooks: options.hooks,
        version: () => older() ?? protocol.protocolVersion,
        bearer,
        onChallenge
      })
    let progress = 0
    // What effect's client cannot say itself: the capabilities byok handles, and a progress token on each call.
    const withOurs = <M extends McpSchema.JsonRpcRequest>(message: M): M => {
      const params = (message as { params?: Record<string, unknown> }).params ?? {}
      if (message.method === "initialize" && options.capabilities !== undefined) {
        return { ...message, params: { ...params, capabilities: { ...(params["capabilities"] as object | undefined), ...options.capabilities } } }
      }
      if (message.method === "tools/call") {
        const meta = (params["_meta"] as Record<string, unknown> | undefined) ?? {}
        return { ...message, params: { ...params, _meta: { ...meta, progressToken: `byok-${++progress}` } } }
      }
      return message
    }
    // The raw tools/list pages: their annotations as the server wrote them.
    const raw = new Map<string, RawTool>()
    const transport: McpClient.Transport = {
      ...base.transport,
      request: (message, tool) =>
        base.transport.request(withOurs(message), tool).pipe(Effect.map((response) => {
          const result = (response as { result?: { tools?: unknown; protocolVersion?: unknown } }).result
          if (message.method === "initialize" && typeof result?.protocolVersion === "string") {
            onVersion(result.protocolVersion)
            // An older revision byok knows shares the shape of what byok asks (initialize, tools/list, tools/call):
            // effect's client is told the revision it asked for, and the connection goes on.
            if (older() !== undefined) return { ...response, result: { ...result, protocolVersion: protocol.protocolVersion } } as typeof response
          }
          if (message.method === "tools/list" && Array.isArray(result?.tools)) {
            for (const t of result.tools as Array<RawTool>) if (typeof t?.name === "string") raw.set(t.name, t)
          }
          return response
        }))
    }
    const client = yield* McpClient.make({ name: "byok", version: VERSION, timeout: options.startTimeoutMs }).pipe(
      Effect.provideService(McpClient.Transport, transport)
    )
    let decoded: ReadonlyArray<McpSchema.Tool> = []
    let tools: ReadonlyArray<RawTool> = []
    const list = Effect.gen(function*() {
      raw.clear()
      decoded = yield* client.listTools({ timeout: options.startTimeoutMs })
      tools = decoded.map((t) => {
        const r = raw.get(t.name)
        return {
          name: t.name,
          description: t.description,
          inputSchema: r?.inputSchema ?? t.inputSchema,
          annotations: r?.annotations !== undefined && typeof r.annotations === "object" ? r.annotations : undefined
        }
      })
      return tools
    }).pipe(Effect.mapError(describe))
    // Tools, resources and prompts, listed side by side so that a start waits for one round trip, not three (a
    // server that fails to list its resources or prompts still offers its tools).
    const [, resources, prompts] = yield* Effect.all([
      list,
      client.listResources({ timeout: options.startTimeoutMs }).pipe(Effect.orElseSucceed(() => [])),
      client.listPrompts({ timeout: options.startTimeoutMs }).pipe(Effect.orElseSucceed(() => []))
    ], { concurrency: "unbounded" })
    return {
      tools: () => tools,
      resources: () => resources.map((r) => ({ uri: r.uri, name: r.name, description: r.description })),
      prompts: () => prompts.map((p) => ({ name: p.name, description: p.description, arguments: (p.arguments ?? []).map((a) => ({ name: a.name, required: a.required === true })) })),
      prompt: (name, args, timeoutMs) =>
        Effect.suspend(() => {
          const prompt = prompts.find((p) => p.name === name)
          if (prompt === undefined) return Effect.fail(`the server has no prompt named ${name}`)
          return client.getPrompt({ prompt, arguments: args }, { timeout: timeoutMs }).pipe(
            Effect.map((result) =>
              result.messages.map((m) => {
                const c = m.content as { type: string; text?: string; resource?: { text?: string; uri?: string } }
                return c.type === "text" ? c.text ?? "" : c.type === "resource" ? c.resource?.text ?? `[${c.resource?.uri ?? "a resource"}, not text]` : `[${c.type} content, not shown]`
              }).join("\n\n")
            ),
            Effect.mapError(describe)
          )
        }),
      read: (uri, timeoutMs) =>
        client.readResource({ uri }, { timeout: timeoutMs }).pipe(
          Effect.map((result) =>
            result.contents.map((part) =>
              "text" in part && typeof part.text === "string"
                ? part.text
                : `[${part.mimeType ?? "binary"} contents of ${part.uri}, not shown]`
            ).join("\n")
          ),
          Effect.mapError(describe)
        ),
      relist: list,
      ended: base.ended,
      expired: () => base.ended() === SESSION_EXPIRED,
      call: (name, args, timeoutMs) =>
        Effect.suspend(() => {
          const tool = decoded.find((t) => t.name === name)
          if (tool === undefined) return Effect.fail(`the server no longer has a tool named ${name}`)
          const limit = `no answer within ${Math.round(timeoutMs / 1000)} s (BYOK_MCP_TIMEOUT sets the limit)`
          // The call's time limit, started again by each progress notification (the spec's advice for long calls).
          const deadline = Effect.callback<never, string>((resume) => {
            const fire = () => resume(Effect.fail(limit))
            let timer = setTimeout(fire, timeoutMs)
            const reset = () => {
              clearTimeout(timer)
              timer = setTimeout(fire, timeoutMs)
            }
            resets.add(reset)
            return Effect.sync(() => {
              clearTimeout(timer)
              resets.delete(reset)
            })
          })
          const once = client.callTool({ tool, arguments: args }).pipe(Effect.raceFirst(deadline))
          // A 403 that asks for more scope (step-up): new tokens with it, then the call once more.
          return once.pipe(
            Effect.catchIf(
              (error) => error instanceof McpClientError && error.reason instanceof HttpError && error.reason.status === 403 && stepUp !== undefined,
              (error) => Effect.flatMap(stepUp!(((error as McpClientError).reason as HttpError).wwwAuthenticate), (renewed) => (renewed ? once : Effect.fail(error)))
            ),
            Effect.map((result) => ({ ...resultOf(result), isError: result.isError === true })),
            Effect.mapError((error) => (typeof error === "string" ? error : describe(error)))
          )
        })
    } satisfies Connection
  }).pipe(Effect.mapError((error) => (typeof error === "string" ? error : describe(error))))
