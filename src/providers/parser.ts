// Runs a wire format's pure step/onHalt parser over SSE messages, and the failure outputs the parsers share.
// A transport failure part-way is handed to the parser as a final `Broken` input, because only the parser knows
// whether the answer had already started.
import { Stream } from "effect"
import { ConnectionError, ProviderError } from "./errors.ts"
import type { LlmEvent } from "./event.ts"
import { connectionReason, invalidResponse, providerError, type RequestContext } from "./http.ts"
import type { SseMessage } from "./sse.ts"

/** What a parser consumes: SSE messages, then possibly one `Broken` when the connection failed. */
export type WireInput = SseMessage | { readonly _tag: "Broken"; readonly cause: unknown }

/** What a parser produces: events for the user, or the failure that ends the stream. */
export type WireOutput = LlmEvent | { readonly _tag: "Fail"; readonly error: ProviderError }

export interface WireParser<S> {
  readonly initial: () => S
  readonly step: (state: S, input: WireInput) => readonly [S, ReadonlyArray<WireOutput>]
  /** Called when the body ends: emits the final Finish, or the failure for a stream cut short. */
  readonly onHalt: (state: S) => ReadonlyArray<WireOutput>
}

/**
 * Runs a wire parser over messages. The answer ends at the parser's first Finish (takeUntil) or Fail (the stream
 * fails there): nothing after either is delivered and `onHalt` is not reached, so parsers keep no "done" state.
 * Works a network chunk at a time (one batch of outputs per chunk of messages) rather than an event at a time:
 * per-event effects cost more than the parsing itself on a fast local stream.
 */
export const runWireParser = <S, E>(
  messages: Stream.Stream<SseMessage, E>,
  parser: WireParser<S>
): Stream.Stream<LlmEvent, ProviderError> =>
  messages.pipe(
    Stream.map((m): WireInput => m),
    Stream.catch((cause) => Stream.succeed<WireInput>({ _tag: "Broken", cause })),
    Stream.mapAccumArray(() => ({ state: parser.initial(), deltas: 0 }), (acc, inputs) => {
      let s = acc.state
      let deltas = acc.deltas
      const batch: Array<WireOutput> = []
      for (const input of inputs) {
        const [next, out] = parser.step(s, input)
        s = next
        for (const o of out) {
          if (o._tag === "TextDelta" || o._tag === "ReasoningDelta") deltas++
          batch.push(o._tag === "Fail" ? withDeltas(o, deltas) : o)
        }
      }
      return [{ state: s, deltas }, batch.length > 0 ? [batch] : []]
    }, { onHalt: (acc) => [parser.onHalt(acc.state).map((o) => (o._tag === "Fail" ? withDeltas(o, acc.deltas) : o))] }),
    Stream.flatMap((batch) => {
      const failAt = batch.findIndex((o) => o._tag === "Fail")
      if (failAt < 0) return Stream.fromArray(batch as ReadonlyArray<LlmEvent>)
      const failure = batch[failAt] as Extract<WireOutput, { _tag: "Fail" }>
      return Stream.concat(Stream.fromArray(batch.slice(0, failAt) as ReadonlyArray<LlmEvent>), Stream.fail(failure.error))
    }),
    Stream.takeUntil((event) => event._tag === "Finish")
  )

/** A connection that broke or stalled part-way says how much of the answer had come (for its message). */
const withDeltas = (fail: Extract<WireOutput, { _tag: "Fail" }>, deltas: number): WireOutput => {
  const reason = fail.error.reason
  if (reason._tag !== "ConnectionError" || deltas === 0) return fail
  return {
    _tag: "Fail",
    error: new ProviderError({ ...fail.error, reason: new ConnectionError({ ...reason, deltas }) })
  }
}

// ---- helpers for the parsers' failure outputs --------------------------------------------------------------------

/** The connection broke (or the body ended) before the format's terminal event. */
export const cutShort = (
  ctx: RequestContext,
  cause: unknown,
  emitted: boolean,
  requestId: string | undefined
): WireOutput => ({
  _tag: "Fail",
  error: providerError(ctx, connectionReason(cause, true), { midStream: emitted, requestId })
})

/** The body held none of the API's events: most likely base_url points at something else. */
export const notThisApi = (ctx: RequestContext, events: string, endpoint: string): WireOutput => ({
  _tag: "Fail",
  error: invalidResponse(ctx, `the response had no ${events} events: is base_url ${endpoint} endpoint?`, false)
})

/** Parses an event's data as a JSON object, or gives the failure to emit for it. */
export const parseData = (
  ctx: RequestContext,
  data: string,
  emitted: boolean
): { readonly value: Record<string, unknown> } | { readonly fail: WireOutput } => {
  try {
    const value: unknown = JSON.parse(data)
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return { value: value as Record<string, unknown> }
    }
  } catch {
    // reported below
  }
  return {
    fail: { _tag: "Fail", error: invalidResponse(ctx, `an event is not a JSON object: ${data.slice(0, 120)}`, emitted) }
  }
}
