// A loopback HTTP server for end-to-end tests: each test says how to answer; requests are recorded.
import type { Server } from "bun"

export interface Recorded {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: unknown
}

export type Handler = (req: Recorded) => Response | Promise<Response>

export interface FakeServer {
  readonly url: string
  readonly requests: Array<Recorded>
  handle(handler: Handler): void
  stop(): void
}

/**
 * The GETs byok sends a local server to learn which one it is and the context it serves (providers/local.ts): a
 * plain fake is none of them, so it answers 404 and neither records them nor troubles the test's handler.
 */
const PROBES = new Set(["/api/version", "/props", "/version", "/api/v0/models", "/api/ps", "/api/tags"])

export const startServer = (): FakeServer => {
  const requests: Array<Recorded> = []
  let handler: Handler = () => new Response("no handler", { status: 500 })
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname
      if (PROBES.has(path) || (req.method === "POST" && path === "/api/show")) return new Response("not found", { status: 404 })
      const text = await req.text()
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {
        // keep the text
      }
      const recorded: Recorded = {
        method: req.method,
        path: new URL(req.url).pathname,
        headers: Object.fromEntries(req.headers.entries()),
        body
      }
      requests.push(recorded)
      return handler(recorded)
    }
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    handle: (h) => {
      handler = h
    },
    stop: () => void server.stop(true)
  }
}

/** An SSE response made of the given body text. */
export const sseResponse = (body: string, init: ResponseInit = {}) =>
  new Response(body, { ...init, headers: { "content-type": "text/event-stream", ...init.headers } })

/**
 * A streaming response that sends `first` and then holds the connection open until `release` (or until the client
 * goes away): for stopping an answer part-way.
 */
export const heldStream = (first: string) => {
  let release = () => {}
  const response = new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(first))
        release = () => {
          try {
            controller.close()
          } catch {
            // the client went away first
          }
        }
      }
    }),
    { headers: { "content-type": "text/event-stream" } }
  )
  return { response, release: () => release() }
}
