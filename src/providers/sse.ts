// SSE framing for the three wire formats: response bytes → text → SSE messages, with the incremental parser of
// effect/encoding. What the messages mean is each format's parser's business (parser.ts runs them).
import { Effect, Stream } from "effect"
import * as Sse from "effect/encoding/Sse"
import type { HttpClientResponse } from "effect/http"
import type { Timeouts } from "./conversation.ts"
import { bodyText } from "./http.ts"

export interface SseMessage {
  readonly _tag: "Event"
  /** The `event:` name, "message" when the server sent none. */
  readonly event: string
  readonly data: string
}

/**
 * Text chunks → SSE messages. Uses effect/encoding's incremental parser directly rather than `Sse.decode`, which
 * fails the stream on a `retry:` field; a reconnection hint means nothing to a one-shot POST, so it is ignored.
 */
export const decodeSse = <E>(text: Stream.Stream<string, E>): Stream.Stream<SseMessage, E | Sse.SseError> =>
  Stream.suspend(() => {
    let batch: Array<SseMessage> = []
    const parser = Sse.makeParser((event) => {
      if (event._tag === "Event") batch.push({ _tag: "Event", event: event.event, data: event.data })
    })
    return text.pipe(
      Stream.mapEffect((chunk) => {
        const error = parser.feed(chunk)
        if (error !== undefined) return Effect.fail(error)
        const out = batch
        batch = []
        return Effect.succeed(out)
      }),
      Stream.flattenIterable
    )
  })

/** One SSE message, as a format's JSON-to-events conversion makes them. */
export const message = (data: unknown, event = "message"): SseMessage => ({
  _tag: "Event",
  event,
  data: typeof data === "string" ? data : JSON.stringify(data)
})

/** The SSE messages of a streaming response body. */
export const sseMessages = (response: HttpClientResponse.HttpClientResponse, timeouts: Timeouts) =>
  decodeSse(bodyText(response, timeouts))
