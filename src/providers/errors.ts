// ProviderError and its reasons: everything that can go wrong between byok and a model server, whatever the wire
// format. Reasons are data (status, request id, a redacted body excerpt live on ProviderError); the sentences a user
// reads, with the fix, are written in explain/provider.ts. Mapping from HTTP/transport happens only in
// providers/http.ts. Whether a failure is worth another try is decided here, once: each reason's `retryable`.
import { Schema } from "effect"
import type { ModelEntry } from "../config/schema.ts"

export class AuthenticationError extends Schema.TaggedError<AuthenticationError>()("AuthenticationError", {
  /** 401: the key was refused; 403: the key is fine but may not do this; 402: billing. */
  kind: Schema.Literals(["invalid-key", "permission", "billing"])
}) {
  get retryable() {
    return false
  }
  override get message() {
    return this.kind === "invalid-key"
      ? "The API key was rejected"
      : this.kind === "billing"
      ? "The account has no credit or billing is not set up"
      : "The API key is not allowed to use this model"
  }
}

export class RateLimitError extends Schema.TaggedError<RateLimitError>()("RateLimitError", {
  /** Seconds to wait, from `retry-after-ms` / `retry-after`. */
  retryAfter: Schema.optionalKey(Schema.Number),
  /** The quota or spend limit is exhausted: waiting a few seconds will not help. */
  quota: Schema.Boolean
}) {
  get retryable() {
    return !this.quota
  }
  override get message() {
    return this.quota ? "Quota or spend limit exhausted" : "Rate limited"
  }
}

/**
 * `timeout`: no answer within the first-byte limit; `stalled`: the answer started, then nothing came within the
 * idle limit; `stream-cut`: the connection closed part-way.
 */
export const ConnectionKind = Schema.Literals(["refused", "dns", "tls", "timeout", "stalled", "reset", "stream-cut", "offline", "other"])

export class ConnectionError extends Schema.TaggedError<ConnectionError>()("ConnectionError", {
  kind: ConnectionKind,
  detail: Schema.String,
  /** The limit that ran out, for `timeout` and `stalled`, in seconds. */
  waitedSeconds: Schema.optionalKey(Schema.Number),
  /** For a stream that broke or stalled part-way: how many pieces of the answer had come (about one token each). */
  deltas: Schema.optionalKey(Schema.Number),
  /** The proxy that could not be reached (user and password hidden), and the variable that named it. */
  proxy: Schema.optionalKey(Schema.String),
  proxyVariable: Schema.optionalKey(Schema.String)
}) {
  /**
   * A dropped connection is worth another try; a refused one (nothing listens: start the server), a name that
   * does not resolve or a failed TLS handshake are not: trying again cannot fix them. Nor is byok's own wait
   * running out (timeout, stalled): the user set how long to wait, and a retry would wait as long again.
   */
  get retryable() {
    return this.kind !== "refused" && this.kind !== "dns" && this.kind !== "tls" && this.kind !== "timeout" &&
      this.kind !== "stalled" && this.kind !== "offline"
  }
  override get message() {
    return `Connection failed (${this.kind}): ${this.detail}`
  }
}

export class ModelNotFound extends Schema.TaggedError<ModelNotFound>()("ModelNotFound", {}) {
  get retryable() {
    return false
  }
  override get message() {
    return "Model or endpoint not found"
  }
}

export class ContextLengthExceeded extends Schema.TaggedError<ContextLengthExceeded>()("ContextLengthExceeded", {
  /** The prompt's size, in tokens, as the server counted it (when it said). */
  promptTokens: Schema.optionalKey(Schema.Number),
  /** The context the server serves, in tokens (when it said). */
  contextTokens: Schema.optionalKey(Schema.Number),
  /** The room asked for the answer (max_tokens), in tokens, when the server counted it in (OpenAI, vLLM, Anthropic). */
  outputTokens: Schema.optionalKey(Schema.Number)
}) {
  get retryable() {
    return false
  }
  override get message() {
    return "The conversation is longer than the model's context window"
  }
}

export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>()("InvalidRequestError", {
  detail: Schema.String,
  /** The request field the server objected to, when it says (`param`). */
  param: Schema.optionalKey(Schema.String)
}) {
  get retryable() {
    return false
  }
  override get message() {
    return `The server rejected the request: ${this.detail}`
  }
}

export class ProviderInternalError extends Schema.TaggedError<ProviderInternalError>()("ProviderInternalError", {
  /** Overloaded across all users (Anthropic 529 / overloaded_error, HTTP 503). */
  overloaded: Schema.Boolean,
  detail: Schema.String
}) {
  get retryable() {
    return true
  }
  override get message() {
    return this.overloaded ? "The provider is overloaded" : "The provider had an internal error"
  }
}

export class InvalidResponseError extends Schema.TaggedError<InvalidResponseError>()("InvalidResponseError", {
  detail: Schema.String
}) {
  get retryable() {
    return false
  }
  override get message() {
    return `The server sent a response byok cannot read: ${this.detail}`
  }
}

/**
 * The server answered with a redirect byok does not follow: credentials go only to the configured origin (a
 * cross-origin redirect would hand the key and every extraHeaders value to another host), and a 301/302/303
 * would turn the POST into a GET.
 */
export class RedirectRefused extends Schema.TaggedError<RedirectRefused>()("RedirectRefused", {
  status: Schema.Number,
  location: Schema.String,
  /** base_url that would reach the new location directly, when it can be told. */
  suggestedBaseUrl: Schema.optionalKey(Schema.String)
}) {
  get retryable() {
    return false
  }
  override get message() {
    return `The server redirected (${this.status}) to ${this.location}`
  }
}

export const ProviderErrorReason = Schema.Union([
  RedirectRefused,
  AuthenticationError,
  RateLimitError,
  ConnectionError,
  ModelNotFound,
  ContextLengthExceeded,
  InvalidRequestError,
  ProviderInternalError,
  InvalidResponseError
])
export type ProviderErrorReason = typeof ProviderErrorReason.Type

/** The config entry of the model that failed: its file, its endpoint, its wire format (never printed whole). */
const Entry = Schema.declare((u: unknown): u is ModelEntry =>
  typeof u === "object" && u !== null && "displayName" in u && "endpoint" in u
)

/** What the server at the entry's address said of itself after the error (local servers, context and 404 errors). */
export const ServedFacts = Schema.Struct({
  kind: Schema.Literals(["ollama", "llama.cpp", "vllm", "lmstudio"]),
  context: Schema.optionalKey(Schema.Number),
  models: Schema.Array(Schema.String)
})

export class ProviderError extends Schema.TaggedError<ProviderError>()("ProviderError", {
  entry: Entry,
  served: Schema.optionalKey(ServedFacts),
  status: Schema.optionalKey(Schema.Number),
  requestId: Schema.optionalKey(Schema.String),
  /** The start of the error body, with the API key removed. */
  body: Schema.optionalKey(Schema.String),
  /** True when the error came after part of the answer was already streamed. */
  midStream: Schema.Boolean,
  reason: ProviderErrorReason
}) {
  get retryable() {
    return this.reason.retryable && !this.midStream
  }
  override get message() {
    return `${this.entry.displayName}: ${this.reason.message}`
  }
  /** The entry's name and host, never the entry itself: its header values may be secrets. */
  override toJSON() {
    return {
      _tag: this._tag,
      model: this.entry.displayName,
      provider: this.entry.provider,
      host: this.entry.endpoint.host,
      status: this.status,
      requestId: this.requestId,
      body: this.body,
      midStream: this.midStream,
      reason: this.reason
    }
  }
}
