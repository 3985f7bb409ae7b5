// Runs a wire format's parser over a response body, a network chunk at a time: SSE framing (sse.ts), the format's
// parser, and the events that come of it. A parser reports what each message means through `Emit`; the runner
// turns that into one batch of events per network chunk, with the text of consecutive deltas joined into one
// event, so that the stream allocates nothing per delta beyond its text (issue 12: per-event effects and objects
// cost more than the parsing on a fast local stream). A transport failure part-way is handed to the parser
// (`broken`), because only the parser knows whether the answer had already started.
import { Cause, Effect, Pull, Stream } from "effect"
import { ConnectionError, ProviderError } from "./errors.ts"
import type { LlmEvent } from "./event.ts"
import { connectionReason, invalidResponse, providerError, type RequestContext } from "./http.ts"
import { makeSseParser, type SseMessage } from "./sse.ts"

/** What a parser reports. The first Finish or failure ends the answer: anything reported after it is dropped. */
export interface Emit {
  readonly text: (text: string) => void
  readonly reasoning: (text: string) => void
  /** Start, Usage, Warning or Finish. */
  readonly event: (event: LlmEvent) => void
  readonly fail: (error: ProviderError) => void
}

/** A format's parser for one response: it keeps its own state, and reports through the Emit it was made with. */
export interface WireParser {
  /** One SSE message: its `event:` name ("message" when none) and its data. */
  readonly message: (event: string, data: string) => void
  /** The connection failed (or the body could not be framed) before the answer's end. */
  readonly broken: (cause: unknown) => void
  /** The body ended before the format's terminal event: the final Finish, or the failure for a stream cut short. */
  readonly end: () => void
}

/**
 * The events of a response body: text to frame as SSE, or messages already framed (a whole JSON answer, as
 * `fromJson` turns it into the messages a stream would have carried). The answer ends at the first Finish (the rest
 * of the body is not read) or failure (the stream fails there, after the events before it).
 */
export const runWireParser = <E>(
  body: Stream.Stream<string | SseMessage, E>,
  makeParser: (emit: Emit) => WireParser
): Stream.Stream<LlmEvent, ProviderError> =>
  Stream.transformPull(body, (pull) =>
    Effect.sync(() => {
      let batch: Array<LlmEvent> = []
      /** Delta text not yet in the batch, and its kind: consecutive deltas of one kind make one event. */
      let pending = ""
      let pendingTag: "TextDelta" | "ReasoningDelta" = "TextDelta"
      /** Text and reasoning deltas reported, for a broken stream's message ("stalled after about N tokens"). */
      let deltas = 0
      /** A Finish or failure was reported, or the body ended: nothing more is read. */
      let over = false
      let failure: ProviderError | undefined

      const flush = () => {
        if (pending !== "") batch.push({ _tag: pendingTag, text: pending })
        pending = ""
      }
      const delta = (tag: "TextDelta" | "ReasoningDelta", text: string) => {
        if (over) return
        deltas++
        if (tag !== pendingTag) {
          flush()
          pendingTag = tag
        }
        pending += text
      }
      const emit: Emit = {
        text: (text) => delta("TextDelta", text),
        reasoning: (text) => delta("ReasoningDelta", text),
        event: (event) => {
          if (over) return
          flush()
          batch.push(event)
          if (event._tag === "Finish") over = true
        },
        fail: (error) => {
          if (over) return
          flush()
          failure = withDeltas(error, deltas)
          over = true
        }
      }
      const parser = makeParser(emit)
      const sse = makeSseParser((event, data) => {
        if (!over) parser.message(event, data)
      })
      const read = (input: string | SseMessage) => {
        if (typeof input !== "string") {
          if (!over) parser.message(input.event, input.data)
          return
        }
        const tooLarge = sse.feed(input)
        if (tooLarge !== undefined && !over) parser.broken(tooLarge)
      }

      /** What was reported so far: the batch, else the failure, else the end; or undefined to read on. */
      const deliver = (): Effect.Effect<ReadonlyArray<LlmEvent>, ProviderError | Cause.Done> | undefined => {
        flush()
        if (batch.length > 0) {
          const out = batch
          batch = []
          return Effect.succeed(out)
        }
        if (failure !== undefined) return Effect.fail(failure)
        return over ? Cause.done() : undefined
      }

      const next: Pull.Pull<readonly [LlmEvent, ...Array<LlmEvent>], ProviderError> = Effect.suspend(() => {
        const ready = deliver()
        if (ready !== undefined) return ready as Pull.Pull<readonly [LlmEvent, ...Array<LlmEvent>], ProviderError>
        return pull.pipe(
          Pull.matchEffect({
            onSuccess: (inputs) => {
              for (const input of inputs) read(input)
              return next
            },
            onFailure: (cause) => {
              const found = Cause.findError(cause)
              // An interruption or a defect is not the server's doing: it goes on as it is.
              if (found._tag === "Failure") return Effect.failCause(found.failure)
              if (!over) parser.broken(found.success)
              over = true
              return next
            },
            onDone: () => {
              sse.end()
              if (!over) parser.end()
              over = true
              return next
            }
          })
        )
      })
      return next
    }))

/** A connection that broke or stalled part-way says how much of the answer had come (for its message). */
const withDeltas = (error: ProviderError, deltas: number): ProviderError => {
  const reason = error.reason
  if (reason._tag !== "ConnectionError" || deltas === 0) return error
  return new ProviderError({ ...error, reason: new ConnectionError({ ...reason, deltas }) })
}

// ---- helpers for the parsers' failures ---------------------------------------------------------------------------

/** The connection broke (or the body ended) before the format's terminal event. */
export const cutShort = (ctx: RequestContext, cause: unknown, emitted: boolean, requestId: string | undefined) =>
  providerError(ctx, connectionReason(cause, true), { midStream: emitted, requestId })

/** The body held none of the API's events: most likely base_url points at something else. */
export const notThisApi = (ctx: RequestContext, events: string, endpoint: string) =>
  invalidResponse(ctx, `the response had no ${events} events: is base_url ${endpoint} endpoint?`, false)

/** An event's data as a JSON object; undefined (after reporting the failure) when it is not one. */
export const parseData = (
  ctx: RequestContext,
  emit: Emit,
  data: string,
  emitted: boolean
): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(data)
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // reported below
  }
  emit.fail(invalidResponse(ctx, `an event is not a JSON object: ${data.slice(0, 120)}`, emitted))
  return undefined
}
