import { describe, expect, test } from "bun:test"
import { Duration, Effect, Fiber, Layer, Redacted, Stream } from "effect"
import { TestClock } from "effect/testing"
import { explainRetry } from "../src/explain/provider.ts"
import type { RetryInfo } from "../src/providers/conversation.ts"
import {
  AuthenticationError,
  ConnectionError,
  ProviderError,
  type ProviderErrorReason,
  ProviderInternalError,
  RateLimitError
} from "../src/providers/errors.ts"
import * as Provider from "../src/providers/provider.ts"
import { retryDelay } from "../src/providers/retry.ts"
import { fakeHttp, type Scripted, sse } from "./lib/http.ts"
import { makeEntry, makeRequest } from "./lib/provider.ts"

const error = (reason: ProviderErrorReason, midStream = false) =>
  new ProviderError({
    entry: makeEntry({ provider: "anthropic", baseUrl: "https://api.anthropic.com" }),
    midStream,
    reason
  })

const ms = (d: Duration.Duration | undefined) => (d === undefined ? undefined : Duration.toMillis(d))

describe("retry policy", () => {
  test("retry-after is obeyed up to a minute; longer is not waited for", () => {
    expect(ms(retryDelay(error(new RateLimitError({ quota: false, retryAfter: 3 })), 1, 0.5))).toBe(3000)
    expect(retryDelay(error(new RateLimitError({ quota: false, retryAfter: 120 })), 1, 0.5)).toBeUndefined()
  })

  test("backoff min(0.5·2^n, 8) s with up to 25% jitter", () => {
    const overloaded = error(new ProviderInternalError({ overloaded: true, detail: "Overloaded" }))
    expect(ms(retryDelay(overloaded, 1, 0))).toBe(500)
    expect(ms(retryDelay(overloaded, 2, 0))).toBe(1000)
    expect(ms(retryDelay(overloaded, 3, 0.999))).toBe(Math.round(2000 * (1 - 0.999 * 0.25)))
    expect(ms(retryDelay(overloaded, 10, 0))).toBe(8000)
  })

  test("never retried: auth, exhausted quota, refused/DNS/TLS connections, byok's own wait running out, anything after output began", () => {
    expect(retryDelay(error(new AuthenticationError({ kind: "invalid-key" })), 1, 0)).toBeUndefined()
    expect(retryDelay(error(new RateLimitError({ quota: true })), 1, 0)).toBeUndefined()
    for (const kind of ["refused", "dns", "tls", "timeout", "stalled"] as const) {
      expect(retryDelay(error(new ConnectionError({ kind, detail: "x" })), 1, 0)).toBeUndefined()
    }
    expect(retryDelay(error(new ConnectionError({ kind: "reset", detail: "x" })), 1, 0)).toBeDefined()
    expect(retryDelay(error(new ProviderInternalError({ overloaded: true, detail: "x" }), true), 1, 0)).toBeUndefined()
  })
})

describe("retries in the provider (TestClock)", () => {
  const ok = sse(
    { model: "m", choices: [{ index: 0, delta: { content: "done" }, finish_reason: "stop" }] },
    "[DONE]"
  )
  const json = (status: number, headers: Record<string, string> = {}): Scripted => ({
    status,
    headers: { "content-type": "application/json", ...headers },
    chunks: [JSON.stringify({ error: { message: "busy", type: status === 529 ? "overloaded_error" : "rate_limit_error" } })]
  })

  const runWith = (responses: ReadonlyArray<Scripted>, maxRetries: number, advance: ReadonlyArray<Duration.Input>) => {
    let n = 0
    const { layer, sent } = fakeHttp(() => responses[Math.min(n++, responses.length - 1)]!)
    const retries: Array<RetryInfo> = []
    const request = makeRequest(makeEntry({ apiKey: Redacted.make("k") }), {
      maxRetries,
      onRetry: (info) => Effect.sync(() => void retries.push(info))
    })
    return Effect.runPromise(
      Effect.gen(function*() {
        const provider = yield* Provider.Provider
        const fiber = yield* Effect.forkChild(Effect.result(Stream.runCollect(provider.stream(request))))
        for (const step of advance) {
          yield* Effect.yieldNow
          yield* TestClock.adjust(step)
        }
        return yield* Fiber.join(fiber)
      }).pipe(Effect.provide(Layer.merge(Provider.layer.pipe(Layer.provide(layer)), TestClock.layer())))
    ).then((result) => ({ result, sent, retries }))
  }

  test("529 then 429 (retry-after 2 s) then success: three attempts, the waits the policy says", async () => {
    const { result, sent, retries } = await runWith([json(529), json(429, { "retry-after": "2" }), { chunks: [ok] }], 2, [
      "1 second",
      "2 seconds"
    ])
    expect(result._tag).toBe("Success")
    expect(sent).toHaveLength(3)
    expect(retries.map((r) => [r.attempt, r.error.reason._tag])).toEqual([[1, "ProviderInternalError"], [2, "RateLimitError"]])
    expect(Duration.toMillis(retries[1]!.delay)).toBe(2000)
    expect(explainRetry(retries[0]!)).toMatch(/is overloaded; trying again in \d+ms \(retry 1 of 2\)/)
  })

  test("retries run out: the last error is the result", async () => {
    const { result, sent } = await runWith([json(529)], 1, ["1 second", "1 second"])
    expect(result._tag).toBe("Failure")
    expect(sent).toHaveLength(2)
  })

  test("maxRetries 0 and non-retryable errors send once", async () => {
    expect((await runWith([json(529)], 0, [])).sent).toHaveLength(1)
    expect((await runWith([json(401)], 2, ["10 seconds"])).sent).toHaveLength(1)
  })
})
