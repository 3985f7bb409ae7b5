import { describe, expect, test } from "bun:test"
import { Duration, Effect, Layer, Stream } from "effect"
import { FetchHttpClient } from "effect/http"
import fc from "fast-check"
import { describeError, ExitCode, formatReport } from "../src/cli/exit.ts"
import { ProviderError } from "../src/providers/errors.ts"
import { connectionReason, parseRetryAfter } from "../src/providers/http.ts"
import * as Provider from "../src/providers/provider.ts"
import { sse } from "./lib/http.ts"
import { CANARY, collect, makeEntry, makeRequest } from "./lib/provider.ts"

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  chunks: [typeof body === "string" ? body : JSON.stringify(body)]
})

const errorFor = async (script: ReturnType<typeof json>, baseUrl = "http://127.0.0.1:9/v1") => {
  const { error } = await collect(script, makeRequest(makeEntry({ baseUrl })))
  if (error === undefined) throw new Error("expected an error")
  return error
}

/** Everything a user could see of an error: its report, message and data. */
const describeProviderError = (error: ProviderError) => describeError(error)!
const visible = (error: ProviderError) => JSON.stringify(describeProviderError(error)) + error.message + JSON.stringify(error)

const cases: ReadonlyArray<{
  name: string
  script: ReturnType<typeof json>
  tag: string
  code: number
  retryable: boolean
  says: RegExp
  baseUrl?: string
}> = [
  {
    name: "401 (key echoed back by the server)",
    script: json(401, { error: { message: `Incorrect API key provided: ${CANARY}`, type: "invalid_request_error", code: "invalid_api_key" } }),
    tag: "AuthenticationError",
    code: ExitCode.auth,
    retryable: false,
    says: /api_key of "Test Model" in \/home\/u\/\.factory\/config\.json/
  },
  {
    name: "403",
    script: json(403, { type: "error", error: { type: "permission_error", message: "no access" } }),
    tag: "AuthenticationError",
    code: ExitCode.auth,
    retryable: false,
    says: /does not allow this key/
  },
  {
    name: "404 on a base URL without /v1",
    script: json(404, "404 page not found"),
    tag: "ModelNotFound",
    code: ExitCode.other,
    retryable: false,
    says: /try "http:\/\/127\.0\.0\.1:9\/v1"/,
    baseUrl: "http://127.0.0.1:9"
  },
  {
    name: "404 from Ollama for a model not pulled",
    script: json(404, { error: { message: "model \"llama9\" not found, try pulling it first", type: "api_error" } }),
    tag: "ModelNotFound",
    code: ExitCode.other,
    retryable: false,
    says: /ollama pull test-model/,
    baseUrl: "http://localhost:11434/v1"
  },
  {
    name: "400 context length",
    script: json(400, { error: { message: "This model's maximum context length is 8192 tokens", type: "invalid_request_error", code: "context_length_exceeded" } }),
    tag: "ContextLengthExceeded",
    code: ExitCode.other,
    retryable: false,
    says: /context window/
  },
  {
    name: "400 Anthropic prompt too long",
    script: json(400, { type: "error", error: { type: "invalid_request_error", message: "prompt is too long: 208310 tokens > 200000 maximum" } }),
    tag: "ContextLengthExceeded",
    code: ExitCode.other,
    retryable: false,
    says: /context window/
  },
  {
    name: "400 unsupported parameter",
    script: json(400, { error: { message: "Unsupported parameter: 'max_tokens'", type: "invalid_request_error", param: "max_tokens", code: "unsupported_parameter" } }),
    tag: "InvalidRequestError",
    code: ExitCode.other,
    retryable: false,
    says: /output-cap field was refused/
  },
  {
    name: "429 with retry-after",
    script: json(429, { error: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" } }, { "retry-after": "7" }),
    tag: "RateLimitError",
    code: ExitCode.rateLimit,
    retryable: true,
    says: /Try again in 7 s/
  },
  {
    name: "429 insufficient_quota",
    script: json(429, { error: { message: "You exceeded your current quota", type: "insufficient_quota", code: "insufficient_quota" } }),
    tag: "RateLimitError",
    code: ExitCode.rateLimit,
    retryable: false,
    says: /Waiting will not help/
  },
  {
    name: "429 Anthropic spend cap",
    script: json(429, { type: "error", error: { type: "rate_limit_error", message: "limit", details: { error_code: "enforced_spend_limit_reached" } } }),
    tag: "RateLimitError",
    code: ExitCode.rateLimit,
    retryable: false,
    says: /quota or spend limit/
  },
  {
    name: "500",
    script: json(500, { error: { message: "boom", type: "server_error" } }),
    tag: "ProviderInternalError",
    code: ExitCode.other,
    retryable: true,
    says: /provider's side/
  },
  {
    name: "529 overloaded",
    script: json(529, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }),
    tag: "ProviderInternalError",
    code: ExitCode.other,
    retryable: true,
    says: /is overloaded/
  },
  {
    name: "402 OpenRouter credits",
    script: json(402, { error: { code: 402, message: "Insufficient credits" } }),
    tag: "AuthenticationError",
    code: ExitCode.auth,
    retryable: false,
    says: /Add credit/
  }
]

describe("HTTP status → typed error", () => {
  for (const c of cases) {
    test(c.name, async () => {
      const error = await errorFor(c.script, c.baseUrl)
      expect(error.reason._tag as string).toBe(c.tag)
      expect(error.retryable).toBe(c.retryable)
      const report = describeProviderError(error)
      expect(report.code).toBe(c.code)
      expect([report.headline, ...report.lines].join("\n")).toMatch(c.says)
      expect(visible(error)).not.toContain(CANARY)
      expect(visible(error)).not.toContain(CANARY.slice(0, 12))
    })
  }

  test("retry-after-ms wins over retry-after; HTTP dates are read", () => {
    expect(parseRetryAfter({ "retry-after-ms": "1500", "retry-after": "9" })).toBe(1.5)
    expect(parseRetryAfter({ "retry-after": "Thu, 01 Jan 2026 00:00:10 GMT" }, Date.parse("2026-01-01T00:00:00Z"))).toBe(10)
    expect(parseRetryAfter({ "retry-after": "soon" })).toBeUndefined()
  })

  test("the request id is kept", async () => {
    const error = await errorFor(json(500, { error: { message: "x" } }, { "x-request-id": "req_123" }))
    expect(error.requestId).toBe("req_123")
    expect(describeProviderError(error).lines).toContain("request id: req_123")
  })
})

describe("transport failures → ConnectionError", () => {
  test("kinds from the causes fetch reports", () => {
    expect(connectionReason({ code: "ECONNREFUSED" }, false).kind).toBe("refused")
    expect(connectionReason({ code: "ENOTFOUND", message: "getaddrinfo ENOTFOUND x" }, false).kind).toBe("dns")
    expect(connectionReason({ code: "EPROTO", message: "The TLS handshake failed" }, false).kind).toBe("tls")
    expect(connectionReason({ name: "TimeoutError" }, false).kind).toBe("timeout")
    expect(connectionReason({ code: "ECONNRESET" }, true).kind).toBe("stream-cut")
    expect(connectionReason({ code: "ECONNRESET" }, false).kind).toBe("reset")
  })

  const realCall = (baseUrl: string) =>
    Effect.runPromise(
      Effect.gen(function*() {
        const provider = yield* Provider.Provider
        return yield* Effect.flip(Stream.runDrain(provider.stream(makeRequest(makeEntry({ baseUrl })))))
      }).pipe(Effect.provide(Provider.layer.pipe(Layer.provide(FetchHttpClient.layer))))
    )

  test("connection refused on loopback (Ollama's port) → exit 5, names `ollama serve`", async () => {
    // Port 11434 on 127.0.0.1 is assumed closed here; a refused connect is what a stopped Ollama gives.
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
    const port = server.port
    server.stop(true)
    const error = await realCall(`http://127.0.0.1:${port}/v1`)
    expect(error.reason._tag).toBe("ConnectionError")
    expect(error.reason._tag === "ConnectionError" && error.reason.kind).toBe("refused")
    const report = describeProviderError(error)
    expect(report.code).toBe(ExitCode.connection)
    const ollama = describeProviderError(new ProviderError({ ...error, entry: makeEntry({ baseUrl: "http://localhost:11434/v1" }) }))
    expect(ollama.lines.join("\n")).toContain("ollama serve")
    expect(visible(error)).not.toContain(CANARY)
  })

  test("no response within the timeout → ConnectionError timeout", async () => {
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
    try {
      const error = await Effect.runPromise(
        Effect.gen(function*() {
          const provider = yield* Provider.Provider
          const entry = makeEntry({ baseUrl: `http://127.0.0.1:${server.port}/v1` })
          return yield* Effect.flip(Stream.runDrain(provider.stream(makeRequest(entry, { timeouts: { firstByte: Duration.millis(200), idle: Duration.millis(200) } }))))
        }).pipe(Effect.provide(Provider.layer.pipe(Layer.provide(FetchHttpClient.layer))))
      )
      expect(error.reason._tag === "ConnectionError" && error.reason.kind).toBe("timeout")
      expect(describeProviderError(error).code).toBe(ExitCode.connection)
    } finally {
      server.stop(true)
    }
  })
})

describe("property: server error text never carries the key out", () => {
  const shapes = (message: string, status: number) => [
    json(status, { error: { message, type: "invalid_request_error" } }),
    json(status, { type: "error", error: { type: "api_error", message } }),
    json(status, { detail: message }),
    { status, headers: { "content-type": "text/plain" }, chunks: [message] },
    { status: 200, headers: { "content-type": "text/event-stream" }, chunks: [sse({ error: { message } })] }
  ]
  const formats = ["generic-chat-completion-api", "anthropic", "openai"] as const

  test("bodies and in-band errors with the key (or a header carrying it) anywhere: no byte of it in the report", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 30 }),
        fc.string({ maxLength: 30 }),
        fc.constantFrom(CANARY, `Authorization: Bearer ${CANARY}`, `x-api-key: ${CANARY}`, `"${CANARY.slice(0, 20)}…"`),
        fc.constantFrom(400, 401, 403, 404, 422, 429, 500, 503),
        fc.nat({ max: 4 }),
        fc.constantFrom(...formats),
        async (before, after, secret, status, shape, provider) => {
          const message = `${before} ${secret} ${after}`
          const entry = makeEntry({ provider, extraHeaders: { "x-team-token": `team-${CANARY}` } })
          const { error } = await collect(shapes(message, status)[shape]!, makeRequest(entry))
          if (error === undefined) return
          const report = describeError(error)!
          const out = formatReport(report, false) + JSON.stringify(error) + error.message
          expect(out.includes(CANARY.slice(0, 12))).toBe(false)
          expect(out.includes(CANARY.slice(-12))).toBe(false)
        }
      ),
      { numRuns: 300 }
    )
  })
})

describe("context errors: every server's wording, with its numbers", () => {
  const cases: ReadonlyArray<readonly [string, unknown, { promptTokens?: number; contextTokens?: number; outputTokens?: number }]> = [
    ["OpenAI", { error: { code: "context_length_exceeded", message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages." } }, { promptTokens: 130512, contextTokens: 128000 }],
    ["Anthropic", { type: "error", error: { type: "invalid_request_error", message: "prompt is too long: 208310 tokens > 200000 maximum" } }, { promptTokens: 208310, contextTokens: 200000 }],
    ["Anthropic with max_tokens", { type: "error", error: { type: "invalid_request_error", message: "input length and `max_tokens` exceed context limit: 197626 + 21333 > 200000, decrease input length or `max_tokens` and try again" } }, { promptTokens: 197626, contextTokens: 200000, outputTokens: 21333 }],
    ["llama.cpp", { error: { code: 400, message: "request (4476 tokens) exceeds the available context size (4096 tokens), try increasing it", type: "exceed_context_size_error", n_prompt_tokens: 4476, n_ctx: 4096 } }, { promptTokens: 4476, contextTokens: 4096 }],
    ["vLLM", { object: "error", message: "This model's maximum context length is 2048 tokens. However, you requested 2100 tokens (2000 in the messages, 100 in the completion). Please reduce the length of the messages or completion.", type: "BadRequestError", code: 400 }, { promptTokens: 2000, contextTokens: 2048, outputTokens: 100 }],
    ["OpenAI, the completion too big", { error: { code: "context_length_exceeded", message: "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (1000 in the messages, 8000 in the completion). Please reduce the length of the messages or completion." } }, { promptTokens: 1000, contextTokens: 8192, outputTokens: 8000 }],
    ["vLLM, newer wording", { object: "error", message: "This model's maximum context length is 4096 tokens. However, you requested 8000 output tokens and your prompt contains at least 1000 input tokens, for a total of at least 9000 tokens.", type: "BadRequestError", code: 400 }, { promptTokens: 1000, contextTokens: 4096, outputTokens: 8000 }],
    ["LM Studio", { error: "Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough." }, { promptTokens: 5000, contextTokens: 4096 }]
  ]
  for (const [name, body, numbers] of cases) {
    test(name, async () => {
      const error = await errorFor(json(400, body))
      expect(error.reason).toMatchObject({ _tag: "ContextLengthExceeded", ...numbers })
      const report = describeProviderError(error)
      const n = (x: number | undefined) => x!.toLocaleString("en-US")
      if (numbers.outputTokens === undefined) {
        expect(report.headline).toContain(`(prompt ${n(numbers.promptTokens)} tokens, context ${n(numbers.contextTokens)})`)
      } else {
        // The prompt fits: the fix is a lower output cap, with the largest that fits.
        expect(report.headline).toContain(`The prompt (${n(numbers.promptTokens)} tokens) plus the room asked for the answer (${n(numbers.outputTokens)} tokens)`)
        expect(report.headline).toContain("the output cap is too big")
        expect(report.lines[0]).toContain(`Lower the output cap to at most ${n(numbers.contextTokens! - numbers.promptTokens!)}: --max-tokens N`)
      }
    })
  }
})
