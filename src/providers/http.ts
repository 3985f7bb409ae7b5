// The one place where HTTP statuses, error bodies, in-band stream errors and transport failures become typed
// ProviderError reasons, for all three wire formats. Also: retry-after parsing, request-id capture, and redaction
// of the API key from anything kept on an error.
import { OfflineRefusal } from "../lib/offline.ts"
import { Duration, Effect, Redacted, Stream } from "effect"
import { FetchHttpClient, type HttpClient, type HttpClientError, HttpClientRequest, type HttpClientResponse } from "effect/http"
import type { ModelEntry } from "../config/schema.ts"
import { showProxy } from "../lib/network.ts"
import type { Timeouts } from "./conversation.ts"
import * as Redact from "../lib/redact.ts"
import {
  AuthenticationError,
  ConnectionError,
  ContextLengthExceeded,
  InvalidRequestError,
  InvalidResponseError,
  ModelNotFound,
  ProviderError,
  type ProviderErrorReason,
  ProviderInternalError,
  RateLimitError,
  RedirectRefused
} from "./errors.ts"

const BODY_LIMIT = 2000

/**
 * Server text kept on an error, with the entry's secrets (its key, its header values, their long fragments) and
 * header-shaped secrets removed: servers echo keys in error messages. The exit redacts again, knowing every
 * entry's secrets; this keeps the error itself clean wherever it goes.
 */
export const redact = (text: string, entry: ModelEntry): string =>
  Redact.make([Redacted.value(entry.apiKey), ...Object.values(entry.extraHeaders)]).redactDiagnostic(text)

export const requestIdOf = (headers: Readonly<Record<string, string | undefined>>): string | undefined =>
  headers["request-id"] ?? headers["x-request-id"] ?? headers["x-generation-id"] ?? headers["x-amzn-requestid"]

/** Seconds to wait: `retry-after-ms` wins, then `retry-after` as seconds or an HTTP date. */
export const parseRetryAfter = (
  headers: Readonly<Record<string, string | undefined>>,
  now: number = Date.now()
): number | undefined => {
  const ms = headers["retry-after-ms"]
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Number(ms) / 1000
  const ra = headers["retry-after"]
  if (ra === undefined) return undefined
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Number(ra)
  const date = Date.parse(ra)
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000)
}

/** What an error body or in-band error payload says, whichever API shaped it. */
export interface ErrorFacts {
  readonly status?: number | undefined
  readonly type?: string | undefined
  readonly code?: string | undefined
  readonly message?: string | undefined
  readonly param?: string | undefined
  readonly retryAfter?: number | undefined
  /** llama.cpp's exceed_context_size_error says the numbers as fields. */
  readonly promptTokens?: number | undefined
  readonly contextTokens?: number | undefined
}

const str = (u: unknown): string | undefined =>
  typeof u === "string" ? u : typeof u === "number" ? String(u) : undefined

/**
 * Reads `{"error":{type,code,message,param}}` (OpenAI, OpenRouter), `{"type":"error","error":{type,message}}`
 * (Anthropic), flat `{"type":"error","code","message"}` (Responses spec), `{"object":"error","message"}` (vLLM),
 * `{"error":"text"}` (Ollama, llama.cpp) and `{"detail":…}` (FastAPI servers).
 */
export const errorFacts = (payload: unknown): ErrorFacts => {
  if (typeof payload !== "object" || payload === null) return {}
  const p = payload as Record<string, unknown>
  const inner = typeof p["error"] === "object" && p["error"] !== null ? p["error"] as Record<string, unknown> : p
  const details = typeof inner["details"] === "object" && inner["details"] !== null
    ? inner["details"] as Record<string, unknown>
    : {}
  const message = str(inner["message"]) ?? str(p["error"]) ?? str(p["message"]) ??
    (p["detail"] !== undefined ? (str(p["detail"]) ?? JSON.stringify(p["detail"])) : undefined)
  const type = str(inner["type"])
  const count = (u: unknown) => (typeof u === "number" && Number.isFinite(u) && u > 0 ? u : undefined)
  return {
    type: type === "error" ? undefined : type,
    code: str(details["error_code"]) ?? str(inner["code"]),
    message,
    param: str(inner["param"]),
    promptTokens: count(inner["n_prompt_tokens"]),
    contextTokens: count(inner["n_ctx"])
  }
}

/**
 * The numbers in a context error's words: llama.cpp "request (N tokens) exceeds the available context size (M
 * tokens)"; OpenAI and vLLM "maximum context length is M tokens. However, you requested N tokens (P in the
 * messages, …)"; Anthropic "prompt is too long: N tokens > M maximum" and "N + X > M"; LM Studio "keep the first N tokens … context length
 * of only M".
 */
export const contextNumbers = (message: string): { promptTokens?: number; contextTokens?: number; outputTokens?: number } => {
  const n = (s: string | undefined) => (s !== undefined ? Number(s) : undefined)
  let m = /\((\d+) tokens\) exceeds the available context size \((\d+) tokens\)/.exec(message)
  if (m) return { promptTokens: n(m[1])!, contextTokens: n(m[2])! }
  m = /prompt is too long: (\d+) tokens > (\d+)/.exec(message)
  if (m) return { promptTokens: n(m[1])!, contextTokens: n(m[2])! }
  // Anthropic: "input length and `max_tokens` exceed context limit: 197824 + 21333 > 200000".
  m = /(\d+) \+ (\d+) > (\d+)/.exec(message)
  if (m) return { promptTokens: n(m[1])!, outputTokens: n(m[2])!, contextTokens: n(m[3])! }
  const context = /maximum context length is (\d+)/.exec(message) ?? /context length of only (\d+)/.exec(message)
  // OpenAI and vLLM: "you requested 9000 tokens (1000 in the messages, 8000 in the completion)"; newer vLLM:
  // "you requested 8000 output tokens and your prompt contains at least 1000 input tokens".
  const split = /\((\d+) in the messages, (\d+) in the completion\)/.exec(message)
  const vllm = /requested (\d+) output tokens and your prompt contains (?:at least )?(\d+) input tokens/.exec(message)
  const prompt = split?.[1] ?? vllm?.[2] ??
    (/\((\d+) in the messages/.exec(message) ?? /(?:resulted in|requested|keep the first) (\d+) tokens/.exec(message))?.[1]
  const output = split?.[2] ?? vllm?.[1]
  return {
    ...(context ? { contextTokens: Number(context[1]) } : {}),
    ...(prompt !== undefined ? { promptTokens: Number(prompt) } : {}),
    ...(output !== undefined ? { outputTokens: Number(output) } : {})
  }
}

const redactFacts = (facts: ErrorFacts, entry: ModelEntry): ErrorFacts =>
  facts.message === undefined ? facts : { ...facts, message: redact(facts.message, entry) }

const CONTEXT_PATTERN =
  /context[ _-]?length|context window|maximum context|context size|context limit|prompt is too long|too many tokens|exceeds? the (model'?s? )?(context|maximum)|input is too long|reduce the length|context overflow/i
const QUOTA_PATTERN = /insufficient_quota|quota|spend limit|enforced_spend_limit|billing|credits?\b/i

/** Status (when there is one) and the error's own words → a reason. */
export const classify = (facts: ErrorFacts): ProviderErrorReason => {
  const { status, type = "", code = "", message = "" } = facts
  const words = `${type} ${code} ${message}`
  const detail = message || type || code || (status !== undefined ? `HTTP ${status}` : "unknown error")
  const numeric = status ?? (/^\d{3}$/.test(code) ? Number(code) : undefined)

  if (
    code === "context_length_exceeded" || type === "context_length_exceeded" || type === "exceed_context_size_error" ||
    CONTEXT_PATTERN.test(message)
  ) {
    const said = contextNumbers(message)
    const promptTokens = facts.promptTokens ?? said.promptTokens
    const contextTokens = facts.contextTokens ?? said.contextTokens
    return new ContextLengthExceeded({
      ...(promptTokens !== undefined ? { promptTokens } : {}),
      ...(contextTokens !== undefined ? { contextTokens } : {}),
      ...(said.outputTokens !== undefined ? { outputTokens: said.outputTokens } : {})
    })
  }
  if (type === "overloaded_error" || numeric === 529) {
    return new ProviderInternalError({ overloaded: true, detail })
  }
  if (type === "authentication_error" || numeric === 401 || code === "invalid_api_key") {
    return new AuthenticationError({ kind: "invalid-key" })
  }
  if (type === "billing_error" || numeric === 402 || /credit balance is too low/i.test(message)) {
    return new AuthenticationError({ kind: "billing" })
  }
  if (type === "permission_error" || numeric === 403) return new AuthenticationError({ kind: "permission" })
  if (type === "not_found_error" || numeric === 404 || code === "model_not_found") return new ModelNotFound({})
  if (
    type === "rate_limit_error" || numeric === 429 || code === "rate_limit_exceeded" ||
    code === "insufficient_quota" || type === "insufficient_quota"
  ) {
    const quota = QUOTA_PATTERN.test(words) && !/rate limit reached for requests/i.test(message)
    return new RateLimitError({
      quota,
      ...(facts.retryAfter !== undefined && !quota ? { retryAfter: facts.retryAfter } : {})
    })
  }
  if (numeric === 408 || type === "timeout_error" || numeric === 504) {
    return new ConnectionError({ kind: "timeout", detail })
  }
  if (
    numeric !== undefined && numeric >= 500 || type === "api_error" || type === "server_error" ||
    code === "server_error"
  ) {
    return new ProviderInternalError({ overloaded: numeric === 503, detail })
  }
  if (numeric !== undefined && numeric >= 400) {
    return new InvalidRequestError({ detail, ...(facts.param ? { param: facts.param } : {}) })
  }
  // An in-band error without a status or a type we know: the server failed while answering.
  return new ProviderInternalError({ overloaded: false, detail })
}

/** What every ProviderError of one request shares. */
export interface RequestContext {
  readonly entry: ModelEntry
  /** The proxy this request goes through (lib/network.ts), and the variable that named it. */
  readonly proxy?: { readonly url: string; readonly variable: string } | undefined
}

export const providerError = (
  ctx: RequestContext,
  reason: ProviderErrorReason,
  extra: { status?: number; requestId?: string | undefined; body?: string; midStream?: boolean } = {}
): ProviderError =>
  new ProviderError({
    entry: ctx.entry,
    midStream: extra.midStream ?? false,
    reason,
    ...(extra.status !== undefined ? { status: extra.status } : {}),
    ...(extra.requestId !== undefined ? { requestId: extra.requestId } : {}),
    ...(extra.body !== undefined ? { body: redact(extra.body, ctx.entry).slice(0, BODY_LIMIT) } : {})
  })

/**
 * An error body that is not the API's JSON, as one line: an HTML page (a proxy's or a load balancer's 502) by its
 * title, or else its first line of text; never the page itself.
 */
export const summariseBody = (body: string): string => {
  const text = body.trim()
  if (!/^<(?:!doctype|html|head|body|\?xml|[a-z]+[\s>])/i.test(text)) return text.slice(0, 300)
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1]
  const words = (s: string) =>
    s.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]*>/g, "\n").replace(/&nbsp;/g, " ")
      .replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#39;|&apos;/g, "'").replace(/&quot;/g, "\"")
  const line = (title !== undefined && words(title).trim() !== "" ? words(title) : words(text))
    .split("\n").map((l) => l.replace(/\s+/g, " ").trim()).find((l) => l !== "")
  return `an HTML page${line !== undefined ? `: "${line.slice(0, 160)}"` : ""}`
}

/** A non-2xx response → ProviderError, reading the (small) error body. */
export const fromResponse = (ctx: RequestContext, response: HttpClientResponse.HttpClientResponse) =>
  response.text.pipe(
    Effect.orElseSucceed(() => ""),
    Effect.map((body) => {
      let payload: unknown
      try {
        payload = JSON.parse(body)
      } catch {
        payload = undefined
      }
      const facts = errorFacts(payload)
      const reason = classify({
        ...facts,
        message: redact(facts.message ?? summariseBody(body), ctx.entry) || undefined,
        status: response.status,
        retryAfter: parseRetryAfter(response.headers)
      })
      return providerError(ctx, reason, {
        status: response.status,
        requestId: requestIdOf(response.headers),
        body
      })
    })
  )

/** An error payload that arrived inside a 200 stream. */
export const fromInBand = (ctx: RequestContext, payload: unknown, midStream: boolean, requestId?: string) =>
  providerError(ctx, classify(redactFacts(errorFacts(payload), ctx.entry)), {
    midStream,
    requestId,
    body: JSON.stringify(payload)
  })

/** The offline refusal in a transport failure's causes, if that is what it was. */
const offlineRefusalIn = (cause: unknown, depth = 0): OfflineRefusal | undefined =>
  cause instanceof OfflineRefusal
    ? cause
    : depth < 4 && typeof cause === "object" && cause !== null && "cause" in cause
    ? offlineRefusalIn((cause as { cause: unknown }).cause, depth + 1)
    : undefined

const causeCode = (cause: unknown): string => {
  if (typeof cause !== "object" || cause === null) return String(cause ?? "")
  const c = cause as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown }
  return [c.code, c.name, c.message, typeof c.cause === "object" ? causeCode(c.cause) : ""]
    .filter((x) => typeof x === "string")
    .join(" ")
}

/** byok's own wait ran out while reading the body: before its first byte, or between two pieces of it. */
export class WaitedTooLong {
  constructor(readonly seconds: number, readonly started: boolean) {}
}

const seconds = (d: Duration.Duration) => Math.round(Duration.toMillis(d) / 100) / 10

/**
 * What a transport failure's own text says, in byok's words where byok knows them: the runtime's wording
 * ("HttpClientError … Decode error", "pass `verbose: true` in the second argument to fetch()") means nothing to a
 * user. Otherwise its first line, without the runtime's advice.
 */
const plainDetail = (kind: ConnectionError["kind"], text: string): string => {
  switch (kind) {
    case "stream-cut":
      return "the server or the network closed the connection part-way through the answer"
    case "reset":
      return "the connection was closed before an answer came"
  }
  const first = (text.split("\n")[0] ?? "")
    .replace(/\s*[.,;:]?\s*(?:For more information, )?pass `verbose: true`.*$/i, "")
    .replace(/\bHttpClientError\b:?\s*/g, "")
    .trim()
  return first.slice(0, 300) || "the connection failed"
}

/** A transport failure (nothing or only part of a response arrived) → ConnectionError of the right kind. */
export const connectionReason = (cause: unknown, streamStarted: boolean): ConnectionError => {
  if (cause instanceof WaitedTooLong) {
    return new ConnectionError({
      kind: cause.started ? "stalled" : "timeout",
      detail: cause.started ? `nothing arrived for ${cause.seconds} s` : `no answer in ${cause.seconds} s`,
      waitedSeconds: cause.seconds
    })
  }
  // Offline mode refused it before any lookup (lib/offline.ts): its own words, which name the host and the switch.
  const refusal = offlineRefusalIn(cause)
  if (refusal !== undefined) return new ConnectionError({ kind: "offline", detail: refusal.message })
  const text = causeCode(cause)
  const kind = /ECONNREFUSED|ConnectionRefused/i.test(text)
    ? "refused"
    : /ENOTFOUND|EAI_AGAIN|getaddrinfo|DNS/i.test(text)
    ? "dns"
    : /EPROTO|TLS|SSL|CERT|certificate|self[- ]signed/i.test(text)
    ? "tls"
    : /ETIMEDOUT|timed? ?out|TimeoutError/i.test(text)
    ? "timeout"
    : streamStarted
    ? "stream-cut"
    : /ECONNRESET|socket|closed/i.test(text)
    ? "reset"
    : "other"
  return new ConnectionError({ kind, detail: plainDetail(kind, text) })
}

export const fromTransport = (ctx: RequestContext, error: HttpClientError.HttpClientError, streamStarted = false) => {
  const reason = connectionReason(error.reason.cause ?? error.reason.description, streamStarted)
  // Through a proxy, a connection that never got anywhere is the proxy's: the message must name it, not the server.
  const proxied = ctx.proxy !== undefined && !streamStarted && ["refused", "dns", "reset", "other"].includes(reason.kind)
  return providerError(
    ctx,
    proxied ? new ConnectionError({ ...reason, proxy: showProxy(ctx.proxy!.url), proxyVariable: ctx.proxy!.variable }) : reason,
    { midStream: streamStarted }
  )
}

/** A model's `caFile`, read once per process: the CA its server's certificate comes from. */
const caFiles = new Map<string, Promise<string>>()
const caOf = (path: string) => {
  let text = caFiles.get(path)
  if (text === undefined) caFiles.set(path, text = Bun.file(path).text())
  return text
}

/** The fetch options of one request: no redirects followed, no Bun idle timer, byok's proxy, the model's CA. */
export const requestInit = (ctx: RequestContext): Effect.Effect<RequestInit, ProviderError> =>
  Effect.map(
    ctx.entry.caFile === undefined
      ? Effect.succeed(undefined)
      : Effect.tryPromise({
        try: () => caOf(ctx.entry.caFile!),
        catch: () =>
          providerError(ctx, new ConnectionError({
            kind: "tls",
            detail: `cannot read caFile ${ctx.entry.caFile}: check the path in the entry`
          }))
      }),
    (ca) => ({
      redirect: "manual",
      timeout: false,
      ...(ctx.proxy !== undefined ? { proxy: ctx.proxy.url } : {}),
      ...(ca !== undefined ? { tls: { ca } } : {})
    }) as RequestInit
  )

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 5

/**
 * A redirect: followed only when it keeps the method and body (307, 308) and stays on the same origin, so the
 * credentials never reach another host; anything else is a RedirectRefused that names where it pointed.
 */
const redirected = (
  ctx: RequestContext,
  request: HttpClientRequest.HttpClientRequest,
  response: HttpClientResponse.HttpClientResponse,
  hops: number
): HttpClientRequest.HttpClientRequest | ProviderError => {
  const location = response.headers["location"] ?? ""
  const target = URL.parse(location, request.url)
  const from = URL.parse(request.url)
  if (
    target !== null && from !== null && target.origin === from.origin && hops < MAX_REDIRECTS &&
    (response.status === 307 || response.status === 308)
  ) {
    return HttpClientRequest.setUrl(request, target.href)
  }
  // The endpoint's own path after base_url, e.g. /chat/completions: base_url is what comes before it.
  const suffix = request.url.startsWith(ctx.entry.baseUrl) ? request.url.slice(ctx.entry.baseUrl.length) : ""
  const href = target?.href ?? location
  const suggestedBaseUrl = suffix !== "" && href.endsWith(suffix) ? href.slice(0, -suffix.length) : undefined
  return providerError(
    ctx,
    new RedirectRefused({
      status: response.status,
      location: redact(href, ctx.entry),
      ...(suggestedBaseUrl !== undefined ? { suggestedBaseUrl: redact(suggestedBaseUrl, ctx.entry) } : {})
    }),
    { status: response.status, requestId: requestIdOf(response.headers) }
  )
}

/**
 * Sends the request; any non-2xx becomes a ProviderError. Redirects are not left to fetch, which would carry
 * custom headers (x-api-key, extraHeaders) to another origin: see `redirected`. The response body is left unread
 * for streaming.
 */
export const send = (
  ctx: RequestContext,
  client: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  timeouts: Timeouts
): Effect.Effect<HttpClientResponse.HttpClientResponse, ProviderError> => {
  const attempt = (
    req: HttpClientRequest.HttpClientRequest,
    hops: number
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, ProviderError> =>
    Effect.flatMap(requestInit(ctx), (init) =>
      // Bun's own 5-minute socket idle timer is off: byok's limits below decide, with messages that say which.
      client.execute(req).pipe(
        Effect.provideService(FetchHttpClient.RequestInit, init),
        Effect.mapError((e) => fromTransport(ctx, e))
      )).pipe(
      Effect.flatMap((response) => {
        if (response.status >= 200 && response.status < 300) return Effect.succeed(response)
        if (!REDIRECT_STATUSES.has(response.status)) return Effect.flatMap(fromResponse(ctx, response), Effect.fail)
        const next = redirected(ctx, req, response, hops)
        return next instanceof ProviderError ? Effect.fail(next) : attempt(next, hops + 1)
      })
    )
  return attempt(request, 0).pipe(
    Effect.timeoutOrElse({ duration: timeouts.firstByte, orElse: () => Effect.fail(waitedTooLong(ctx, timeouts.firstByte)) })
  )
}

/** No answer began within the first-byte limit. */
export const waitedTooLong = (ctx: RequestContext, limit: Duration.Duration) =>
  providerError(ctx, connectionReason(new WaitedTooLong(seconds(limit), false), false))

/**
 * The body as text, decoded across chunk boundaries (a UTF-8 character may be split between two reads), each read
 * bounded: the first by the first-byte limit, every later one by the idle limit; running out fails the stream
 * with WaitedTooLong. Transport failures are left in the error channel for the caller, which knows how far the
 * answer got.
 */
export const bodyText = (response: HttpClientResponse.HttpClientResponse, timeouts: Timeouts) =>
  Stream.transformPull(response.stream, (pull) =>
    Effect.sync(() => {
      let started = false
      return Effect.suspend(() => {
        const limit = started ? timeouts.idle : timeouts.firstByte
        return pull.pipe(
          Effect.timeoutOrElse({
            duration: limit,
            orElse: () => Effect.fail(new WaitedTooLong(seconds(limit), started))
          }),
          Effect.tap(() => Effect.sync(() => void (started = true)))
        )
      })
    })).pipe(Stream.decodeText())

/** A whole (non-streamed) body as text, within the first-byte limit. */
export const wholeBody = (response: HttpClientResponse.HttpClientResponse, timeouts: Timeouts) =>
  response.text.pipe(
    Effect.timeoutOrElse({
      duration: timeouts.firstByte,
      orElse: () => Effect.fail(new WaitedTooLong(seconds(timeouts.firstByte), false))
    })
  )

export const invalidResponse = (ctx: RequestContext, detail: string, midStream: boolean) =>
  providerError(ctx, new InvalidResponseError({ detail: redact(detail, ctx.entry).slice(0, 300) }), { midStream })
