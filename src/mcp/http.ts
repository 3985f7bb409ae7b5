// byok's own Streamable HTTP transport (MCP 2025-11-25), under effect's McpClient like stdio and legacy SSE.
// effect's HTTP transport reads one response per POST and drops the rest: it cannot resume a response stream that
// closes early (GET with Last-Event-ID after the server's `retry`), never opens the server's GET stream (so its
// list_changed, logging and requests are lost), and declines every server request. This one does all three, keeps
// the session (re-initialised once after a 404, by the hub), and fails a request refused with 401/403 with effect's
// HttpError and its challenge, which the OAuth logic reads.
import { Effect } from "effect"
import { HttpError, McpClientError } from "effect/ai/McpClientError"
import type { McpServer } from "./config.ts"
import { channel, eachLine, type Log, type Message, problem, type Protocol, type ServerHooks, sseLines } from "./rpc.ts"
import { mcpFetch } from "./net.ts"

/** What `ended()` says once the server forgot the session (a 404): the hub starts it again, once, for the call. */
export const SESSION_EXPIRED = "the server ended the session (404)"
/** Resumptions of one response stream, and reconnections of the GET stream without a message between. */
const MAX_RESUMES = 5
const DEFAULT_RETRY_MS = 1000
/** A server's `retry` is its word: kept between these, so that none can make byok spin or wait without end. */
const MIN_RETRY_MS = 100
const MAX_RETRY_MS = 60_000

export interface HttpOptions {
  readonly protocol: Protocol
  readonly log: Log
  readonly onListChanged: () => void
  readonly hooks?: ServerHooks | undefined
  /** The revision to name in MCP-Protocol-Version (an older one the server took up). */
  readonly version: () => string
  readonly bearer: () => string | undefined
  readonly onChallenge: (status: number, header: string | undefined) => void
}

const failWith = (reason: HttpError) => new McpClientError({ reason })

export const streamableTransport = (server: McpServer, options: HttpOptions) =>
  Effect.gen(function*() {
    const url = server.url!
    const controller = new AbortController()
    let session: string | undefined
    let closing = false
    let getStream = false
    const headers = (extra: Record<string, string>): Record<string, string> => {
      const token = options.bearer()
      return {
        ...server.headers,
        ...extra,
        "mcp-protocol-version": options.version(),
        ...(session !== undefined ? { "mcp-session-id": session } : {}),
        ...(token !== undefined ? { authorization: `Bearer ${token}` } : {})
      }
    }

    /**
     * Reads an event stream's messages into the channel; its last event id and retry are kept for a resumption.
     * `done` stops the reading early (the response it was opened for has come).
     */
    const readEvents = async (body: ReadableStream<Uint8Array>, cursor: { lastId: string | undefined; retry: number }, done: () => boolean, abort: AbortController) => {
      const onLine = sseLines((event) => {
        if (event.id !== undefined) cursor.lastId = event.id
        if (event.event === "message" && event.data.trim() !== "") rpc.receiveLine(event.data)
        if (done()) abort.abort()
      }, (ms) => (cursor.retry = Math.min(Math.max(ms, MIN_RETRY_MS), MAX_RETRY_MS)))
      await eachLine(body, onLine, () => {
        options.log.note("an event longer than 16 MiB: the stream was dropped")
        abort.abort()
      })
    }

    /** Opens a GET event stream (the server's own, or a resumption after `lastId`); undefined when refused. */
    const get = async (lastId: string | undefined, abort: AbortController) => {
      try {
        const response = await mcpFetch(url, {
          method: "GET",
          redirect: "manual",
          headers: headers({ accept: "text/event-stream", ...(lastId !== undefined ? { "last-event-id": lastId } : {}) }),
          signal: abort.signal
        })
        if (response.ok && response.body !== null && (response.headers.get("content-type") ?? "").includes("text/event-stream")) return response.body
        response.body?.cancel().catch(() => {})
        if (response.status === 404 && session !== undefined) rpc.end(SESSION_EXPIRED)
        return undefined
      } catch {
        return undefined
      }
    }

    /** A response stream that closed before its request's response: resumed with GET after the server's retry. */
    const resume = async (id: string | number, cursor: { lastId: string | undefined; retry: number }) => {
      for (let attempt = 0; attempt < MAX_RESUMES && rpc.isPending(id) && !closing; attempt++) {
        if (cursor.lastId === undefined) break
        options.log.note(`the response stream closed early: resuming after event ${cursor.lastId} in ${cursor.retry} ms`)
        await Bun.sleep(cursor.retry)
        const abort = new AbortController()
        const stop = () => abort.abort()
        controller.signal.addEventListener("abort", stop)
        const body = await get(cursor.lastId, abort)
        if (body !== undefined) await readEvents(body, cursor, () => !rpc.isPending(id), abort)
        controller.signal.removeEventListener("abort", stop)
      }
      if (rpc.isPending(id)) rpc.reject(id, problem("the server closed the response stream before answering"))
    }

    /** The server's own GET stream, opened once the session is initialised; reconnected while it gives messages. */
    const listen = async () => {
      const cursor = { lastId: undefined as string | undefined, retry: DEFAULT_RETRY_MS }
      for (let quiet = 0; quiet < MAX_RESUMES && !closing && rpc.ended() === undefined; quiet++) {
        const body = await get(cursor.lastId, controller)
        if (body === undefined) return // 405: the server offers none
        const before = cursor.lastId
        await readEvents(body, cursor, () => false, controller)
        if (cursor.lastId !== before) quiet = -1
        if (!closing) await Bun.sleep(cursor.retry)
      }
    }

    const post = async (json: string) => {
      const message = JSON.parse(json) as Message
      const id = typeof message["method"] === "string" ? message["id"] as string | number | undefined : undefined
      let response: Response
      try {
        response = await mcpFetch(url, {
          method: "POST",
          // A redirect is not followed: it would carry the server's headers and token to wherever it points.
          redirect: "manual",
          headers: headers({ "content-type": "application/json", accept: "application/json, text/event-stream" }),
          body: json,
          signal: controller.signal
        })
      } catch (error) {
        if (id !== undefined && !closing) rpc.refuse(json, `cannot reach ${url}: ${(error as Error).message}`)
        return
      }
      if (response.status === 404 && session !== undefined) {
        response.body?.cancel().catch(() => {})
        // (ended first: the waiting request fails with it, and the hub, seeing why, starts the server again)
        rpc.end(SESSION_EXPIRED)
        return
      }
      if (response.status >= 300 && response.status < 400) {
        response.body?.cancel().catch(() => {})
        const location = (response.headers.get("location") ?? "").replace(/[^\x21-\x7e]/g, "").slice(0, 200)
        if (id !== undefined) rpc.refuse(json, `the server redirects to ${location || "another address"}, which byok does not follow (the request's headers and token would go with it); put that URL in mcp.json if it is the server's`)
        return
      }
      if (!response.ok) {
        const text = await response.text().catch(() => "")
        const header = response.headers.get("www-authenticate") ?? undefined
        if (response.status === 401 || response.status === 403) options.onChallenge(response.status, header)
        let remote: { code?: unknown; message?: unknown } | undefined
        try {
          remote = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error
        } catch {
          remote = undefined
        }
        if (id !== undefined) {
          rpc.reject(id, failWith(new HttpError({
            status: response.status,
            ...(typeof remote?.code === "number" && Number.isInteger(remote.code) ? { code: remote.code } : {}),
            ...(typeof remote?.message === "string" ? { description: remote.message.slice(0, 500) } : {}),
            ...(header !== undefined ? { wwwAuthenticate: header } : {}),
            ...(response.headers.get("retry-after") !== null ? { retryAfter: response.headers.get("retry-after")! } : {})
          })))
        }
        return
      }
      session = response.headers.get("mcp-session-id") ?? session
      const type = response.headers.get("content-type") ?? ""
      if (type.includes("text/event-stream") && response.body !== null) {
        const cursor = { lastId: undefined as string | undefined, retry: DEFAULT_RETRY_MS }
        const abort = new AbortController()
        const stop = () => abort.abort()
        controller.signal.addEventListener("abort", stop)
        await readEvents(response.body, cursor, () => id !== undefined && !rpc.isPending(id), abort)
        controller.signal.removeEventListener("abort", stop)
        if (id !== undefined && rpc.isPending(id) && !closing) await resume(id, cursor)
        return
      }
      const text = await response.text().catch(() => "")
      if (type.includes("application/json") && text.trim() !== "") {
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          parsed = undefined
        }
        for (const one of Array.isArray(parsed) ? parsed : [parsed]) {
          if (typeof one === "object" && one !== null) rpc.receive(one as Message)
        }
      }
      if (id !== undefined && rpc.isPending(id)) rpc.refuse(json, `the server answered ${response.status} with no response to ${String(message["method"])}`)
      // Initialised: the server's own stream is opened for its messages.
      if (message["method"] === "notifications/initialized" && !getStream) {
        getStream = true
        void listen()
      }
    }

    const rpc = channel({
      protocol: options.protocol,
      send: (json) => void post(json),
      log: options.log,
      onListChanged: options.onListChanged,
      hooks: options.hooks
    })

    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        closing = true
        rpc.end("the connection was closed")
        controller.abort()
        // The session is ended for the server too (best effort, briefly).
        if (session !== undefined) {
          await mcpFetch(url, { method: "DELETE", redirect: "manual", headers: headers({}), signal: AbortSignal.timeout(2000) }).then((r) => r.body?.cancel(), () => {})
        }
      })
    )
    return rpc
  })
