// What a wire format is: the few things that set it apart (its URL, auth headers, request body, stream parser,
// and what byok knows of it for caching and hints), and the shared machinery that turns those into one streamed
// call: POST the JSON body, retry before any output, parse the streamed answer.
import { Effect, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import type { ModelEntry } from "../config/schema.ts"
import { Network, proxyFor, type ProxySettings, proxyVariable } from "../lib/network.ts"
import { VERSION } from "../version.ts"
import type { LlmRequest } from "./conversation.ts"
import type { ProviderError } from "./errors.ts"
import type { LlmEvent } from "./event.ts"
import { bodyText, type RequestContext, requestIdOf, send, waitedTooLong, wholeBody } from "./http.ts"
import { type Emit, runWireParser, type WireParser } from "./parser.ts"
import { DEFAULT_MAX_RETRIES, withRetries } from "./retry.ts"
import type { SseMessage } from "./sse.ts"

/** One wire format, as the registry lists it. */
export interface WireSpec {
  /** What the format is called in lists (`/model`, `byok doctor`). */
  readonly label: string
  /** The format adds the API version to base_url itself (Anthropic's `/v1/messages`), so none is expected there. */
  readonly addsVersion: boolean
  /** The shortest prompt the model's host caches, in tokens; undefined where byok cannot tell. */
  readonly cacheMinimum: (entry: ModelEntry) => number | undefined
  readonly url: (entry: ModelEntry) => string
  /** The headers that carry the key (and API version); the user's extraHeaders are added after them. */
  readonly authHeaders: (entry: ModelEntry) => Record<string, string>
  readonly body: (request: LlmRequest) => Record<string, unknown>
  /** The stream parser of one response, reporting through `emit` (parser.ts). */
  readonly parser: (ctx: RequestContext, requestId: string | undefined, emit: Emit) => WireParser
  /**
   * A whole JSON answer (from a server that ignores `stream: true`) as the events the format would have streamed,
   * so the one parser reads both.
   */
  readonly fromJson: (body: string) => ReadonlyArray<SseMessage>
}

/** A wire format ready to call. */
export interface WireFormat {
  readonly stream: (request: LlmRequest) => Stream.Stream<LlmEvent, ProviderError>
}

/** What a request to a model's server goes with: the entry, and the proxy it goes through (if any). */
export const requestContext = (entry: ModelEntry, network: ProxySettings): RequestContext => {
  const proxy = proxyFor(network, entry.endpoint.url)
  return { entry, ...(proxy !== undefined ? { proxy: { url: proxy, variable: proxyVariable(network, entry.endpoint.url) } } : {}) }
}

/** A wire format from its spec: POST the JSON body with the auth headers, then parse the streamed answer. */
export const makeWireFormat = (spec: WireSpec) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const network = yield* Network
    return { stream: (request) =>
      Stream.unwrap(Effect.gen(function*() {
        const ctx = requestContext(request.model, network)
        const http = HttpClientRequest.post(spec.url(request.model)).pipe(
          HttpClientRequest.setHeaders({
            ...spec.authHeaders(request.model),
            accept: "text/event-stream",
            "user-agent": `byok/${VERSION}`,
            ...request.model.extraHeaders
          }),
          HttpClientRequest.bodyText(JSON.stringify(spec.body(request)), "application/json")
        )
        // The first-byte limit bounds the whole wait, retries and their pauses included: --timeout 3 waits 3 s.
        const limit = request.timeouts.firstByte
        const response = yield* withRetries(
          send(ctx, client, http, request.timeouts),
          request.maxRetries ?? DEFAULT_MAX_RETRIES,
          request.onRetry
        ).pipe(Effect.timeoutOrElse({ duration: limit, orElse: () => Effect.fail(waitedTooLong(ctx, limit)) }))
        const body = (response.headers["content-type"] ?? "").includes("application/json")
          ? Stream.fromEffect(wholeBody(response, request.timeouts)).pipe(Stream.flatMap((text) => Stream.fromArray(spec.fromJson(text))))
          : bodyText(response, request.timeouts)
        const requestId = requestIdOf(response.headers)
        return runWireParser(body, (emit) => spec.parser(ctx, requestId, emit))
      }))
    } satisfies WireFormat
  })
