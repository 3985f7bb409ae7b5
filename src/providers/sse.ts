// Shared streaming machinery for the three wire formats: response bytes → text → SSE events (the parser of
// effect/encoding Sse) → a format's pure step/onHalt parser → LlmEvents. A transport failure part-way is handed
// to the parser as a final `Broken` input, because only the parser knows whether the answer had already started.
import { Effect, Random, Stream } from "effect"
import * as Sse from "effect/encoding/Sse"
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "effect/http"
import type { ModelEntry } from "../config/schema.ts"
import { VERSION } from "../version.ts"
import type { ProviderError } from "./errors.ts"
import { DEFAULT_MAX_RETRIES, retryDelay } from "./retry.ts"
import type { LlmRequest, RetryInfo } from "./conversation.ts"
import type { LlmEvent } from "./event.ts"
import { bodyText, connectionReason, invalidResponse, providerError, type RequestContext, requestIdOf, send } from "./http.ts"

export interface SseMessage {
  readonly _tag: "Event"
  /** The `event:` name, "message" when the server sent none. */
  readonly event: string
  readonly data: string
}

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

/** The SSE messages of a streaming response body. */
export const sseMessages = (response: HttpClientResponse.HttpClientResponse) => decodeSse(bodyText(response))

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
    Stream.mapAccumArray(parser.initial, (state, inputs) => {
      let s = state
      const batch: Array<WireOutput> = []
      for (const input of inputs) {
        const [next, out] = parser.step(s, input)
        s = next
        for (const o of out) batch.push(o)
      }
      return [s, batch.length > 0 ? [batch] : []]
    }, { onHalt: (state) => [parser.onHalt(state)] }),
    Stream.flatMap((batch) => {
      const failAt = batch.findIndex((o) => o._tag === "Fail")
      if (failAt < 0) return Stream.fromArray(batch as ReadonlyArray<LlmEvent>)
      const failure = batch[failAt] as Extract<WireOutput, { _tag: "Fail" }>
      return Stream.concat(Stream.fromArray(batch.slice(0, failAt) as ReadonlyArray<LlmEvent>), Stream.fail(failure.error))
    }),
    Stream.takeUntil((event) => event._tag === "Finish")
  )

/** What each wire format provides: one streamed call. */
export interface WireFormat {
  readonly stream: (request: LlmRequest) => Stream.Stream<LlmEvent, ProviderError>
}

/** What sets one wire format apart from the others; everything else about a call is shared. */
export interface WireSpec<S> {
  readonly url: (entry: ModelEntry) => string
  /** The headers that carry the key (and API version); the user's extraHeaders are added after them. */
  readonly authHeaders: (entry: ModelEntry) => Record<string, string>
  readonly body: (request: LlmRequest) => Record<string, unknown>
  readonly parser: (ctx: RequestContext, requestId: string | undefined) => WireParser<S>
  /** The messages of a response, when a format reads more than SSE (Chat Completions' JSON fallback). */
  readonly messages?: (
    response: HttpClientResponse.HttpClientResponse
  ) => Stream.Stream<SseMessage, unknown> | undefined
}

/** A wire format from its spec: POST the JSON body with the auth headers, then parse the streamed answer. */
export const makeWireFormat = <S>(spec: WireSpec<S>) =>
  Effect.map(HttpClient.HttpClient, (client): WireFormat => ({
    stream: (request) =>
      Stream.unwrap(Effect.gen(function*() {
        const ctx = { entry: request.model }
        const http = HttpClientRequest.post(spec.url(request.model)).pipe(
          HttpClientRequest.setHeaders({
            ...spec.authHeaders(request.model),
            accept: "text/event-stream",
            "user-agent": `byok/${VERSION}`,
            ...request.model.extraHeaders
          }),
          HttpClientRequest.bodyText(JSON.stringify(spec.body(request)), "application/json")
        )
        const response = yield* sendWithRetries(
          send(ctx, client, http, request.timeout),
          request.maxRetries ?? DEFAULT_MAX_RETRIES,
          request.onRetry
        )
        const messages = spec.messages?.(response) ?? sseMessages(response)
        return runWireParser(messages, spec.parser(ctx, requestIdOf(response.headers)))
      }))
  }))

/**
 * Sends, and after a retryable failure waits (retry-after, else backoff) and sends again, up to `maxRetries` times.
 * Only the sending is retried: once the answer streams, a failure is the caller's to see.
 */
const sendWithRetries = <A>(
  attemptOnce: Effect.Effect<A, ProviderError>,
  maxRetries: number,
  onRetry: ((info: RetryInfo) => Effect.Effect<void>) | undefined
): Effect.Effect<A, ProviderError> => {
  const loop = (attempt: number): Effect.Effect<A, ProviderError> =>
    attemptOnce.pipe(
      Effect.catch((error) =>
        Effect.flatMap(Random.next, (random) => {
          const delay = attempt <= maxRetries ? retryDelay(error, attempt, random) : undefined
          if (delay === undefined) return Effect.fail(error)
          return (onRetry?.({ error, attempt, maxRetries, delay }) ?? Effect.void).pipe(
            Effect.andThen(Effect.sleep(delay)),
            Effect.andThen(loop(attempt + 1))
          )
        })
      )
    )
  return loop(1)
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
