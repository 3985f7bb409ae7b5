// Test doubles for the network: a fake HttpClient layer that answers every request with a scripted response and
// records what was sent, an SSE body builder, and a loopback server for end-to-end runs of the compiled binary.
import { Effect, Layer } from "effect"
import { HttpClient, type HttpClientRequest, HttpClientResponse } from "effect/http"

export interface Sent {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Record<string, unknown>
}

export interface Scripted {
  readonly status?: number
  readonly headers?: Record<string, string>
  /** The body in pieces, each enqueued as its own chunk. */
  readonly chunks: ReadonlyArray<string | Uint8Array>
  /** Fail the body stream after the chunks, as a cut connection does. */
  readonly cut?: boolean
}

const bodyOf = (request: HttpClientRequest.HttpClientRequest): Record<string, unknown> => {
  const body = request.body
  if (body._tag === "Uint8Array") return JSON.parse(new TextDecoder().decode(body.body))
  return {}
}

/** A fake HttpClient: answers with `script` (or the result of a function of the request), recording requests. */
export const fakeHttp = (script: Scripted | ((sent: Sent) => Scripted)) => {
  const sent: Array<Sent> = []
  const layer = Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) =>
      Effect.sync(() => {
        const record: Sent = { url: request.url, headers: { ...request.headers }, body: bodyOf(request) }
        sent.push(record)
        const s = typeof script === "function" ? script(record) : script
        const encoder = new TextEncoder()
        // One chunk per pull: erroring a stream discards what is still queued, so a cut must come after reads.
        let next = 0
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            const c = s.chunks[next++]
            if (c !== undefined) controller.enqueue(typeof c === "string" ? encoder.encode(c) : c)
            else if (s.cut) controller.error(Object.assign(new Error("socket closed"), { code: "ECONNRESET" }))
            else controller.close()
          }
        })
        return HttpClientResponse.fromWeb(
          request,
          new Response(stream, {
            status: s.status ?? 200,
            headers: { "content-type": "text/event-stream", ...s.headers }
          })
        )
      })
    )
  )
  return { layer, sent }
}

/** `data: {json}\n\n` for each payload; strings are sent as they are (e.g. "[DONE]"). */
export const sse = (...payloads: ReadonlyArray<unknown>): string =>
  payloads.map((p) => `data: ${typeof p === "string" ? p : JSON.stringify(p)}\n\n`).join("")

/** Named SSE events, as the Anthropic and Responses APIs send them. */
export const sseNamed = (...events: ReadonlyArray<readonly [string, unknown]>): string =>
  events.map(([name, p]) => `event: ${name}\ndata: ${JSON.stringify(p)}\n\n`).join("")

/** Splits text at the given offsets (bytes when `bytes` is true, so UTF-8 characters can be split). */
export const splitAt = (text: string, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const bytes = new TextEncoder().encode(text)
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let prev = 0
  for (const p of [...points, bytes.length]) {
    if (p > prev) out.push(bytes.slice(prev, p))
    prev = p
  }
  return out
}
