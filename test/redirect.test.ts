// Redirects against real loopback servers and Bun's fetch: the key and header values never reach another origin,
// a same-origin 307/308 keeps the POST and its body, anything else is refused with the address to use instead.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Layer, Stream } from "effect"
import { FetchHttpClient } from "effect/http"
import { describeError, ExitCode, formatReport } from "../src/cli/exit.ts"
import type { ProviderError } from "../src/providers/errors.ts"
import * as Provider from "../src/providers/provider.ts"
import type { ProviderName } from "../src/providers/names.ts"
import { sse } from "./lib/http.ts"
import { CANARY, makeEntry, makeRequest } from "./lib/provider.ts"
import { type FakeServer, sseResponse, startServer } from "./lib/server.ts"

let origin: FakeServer
let elsewhere: FakeServer

beforeAll(() => {
  origin = startServer()
  elsewhere = startServer()
  elsewhere.handle(() => new Response("should never be asked", { status: 500 }))
})
afterAll(() => {
  origin.stop()
  elsewhere.stop()
})

const answer = sse(
  { choices: [{ index: 0, delta: { content: "followed" }, finish_reason: null }] },
  { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
  "[DONE]"
)

const call = (provider: ProviderName, baseUrl: string) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const p = yield* Provider.Provider
      const entry = makeEntry({ provider, baseUrl, extraHeaders: { "x-team-token": `team-${CANARY}` } })
      return yield* Effect.result(Stream.runCollect(p.stream(makeRequest(entry))))
    }).pipe(Effect.provide(Provider.layer.pipe(Layer.provide(FetchHttpClient.layer))))
  )

describe("redirects", () => {
  for (const provider of ["generic-chat-completion-api", "anthropic", "openai"] as const) {
    test(`${provider}: a 301 to another origin is refused; nothing reaches that origin`, async () => {
      elsewhere.requests.length = 0
      origin.handle((req) =>
        new Response(null, { status: 301, headers: { location: `${elsewhere.url}/v1${req.path.replace(/^\/v1/, "")}` } })
      )
      const result = await call(provider, `${origin.url}/v1`)
      expect(result._tag).toBe("Failure")
      const error = (result as { failure: ProviderError }).failure
      expect(error.reason._tag).toBe("RedirectRefused")
      expect(elsewhere.requests).toHaveLength(0)
      const report = describeError(error)!
      expect(report.code).toBe(ExitCode.usage)
      const text = formatReport(report, false)
      expect(text).toContain("301")
      expect(text).toContain(`set base_url of "Test Model" in /home/u/.factory/config.json to "${elsewhere.url}/v1"`)
      expect(text).not.toContain(CANARY)
    })
  }

  test("a same-origin 307 is followed with the method, the body and the headers kept", async () => {
    origin.handle((req) =>
      req.path === "/old/v1/chat/completions"
        ? new Response(null, { status: 307, headers: { location: "/new/v1/chat/completions" } })
        : sseResponse(answer)
    )
    origin.requests.length = 0
    const result = await call("generic-chat-completion-api", `${origin.url}/old/v1`)
    expect(result._tag).toBe("Success")
    const [first, second] = origin.requests
    expect(second!.path).toBe("/new/v1/chat/completions")
    expect(second!.method).toBe("POST")
    expect(second!.body).toEqual(first!.body)
    expect(second!.headers["authorization"]).toBe(`Bearer ${CANARY}`)
  })

  test("a same-origin 301 is refused too: fetch would turn the POST into a GET", async () => {
    origin.handle(() => new Response(null, { status: 301, headers: { location: "/elsewhere" } }))
    origin.requests.length = 0
    const result = await call("generic-chat-completion-api", `${origin.url}/v1`)
    expect((result as { failure: ProviderError }).failure.reason._tag).toBe("RedirectRefused")
    expect(origin.requests).toHaveLength(1)
  })
})
