// Runs the Provider service against a fake HttpClient and collects what it streamed.
import { Duration, Effect, Layer, Redacted, Result, Stream } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { ModelEntry } from "../../src/config/schema.ts"
import { parseEndpoint } from "../../src/lib/net.ts"
import type { ProviderName } from "../../src/providers/names.ts"
import type { LlmRequest, Turn } from "../../src/providers/conversation.ts"
import type { ProviderError } from "../../src/providers/errors.ts"
import type { LlmEvent } from "../../src/providers/event.ts"
import { LocalServers } from "../../src/providers/local.ts"
import * as Provider from "../../src/providers/provider.ts"
import { fakeHttp, type Scripted, type Sent } from "./http.ts"

/** A LocalServers service that finds nothing and recognises nothing: for tests with no local server. */
export const noLocalServers = Layer.succeed(
  LocalServers,
  LocalServers.of({ recognise: () => Effect.succeed(undefined), discover: Effect.succeed([]) })
)

export const CANARY = "sk-canary-DO-NOT-PRINT-0123456789abcdef"

export const makeEntry = (over: Partial<ModelEntry> & { provider?: ProviderName } = {}): ModelEntry => ({
  displayName: "Test Model",
  model: "test-model",
  baseUrl: "http://127.0.0.1:9/v1",
  endpoint: parseEndpoint(over.baseUrl ?? "http://127.0.0.1:9/v1")!,
  apiKey: Redacted.make(CANARY),
  provider: "generic-chat-completion-api",
  maxOutputTokens: 1000,
  extraArgs: {},
  extraHeaders: {},
  cacheTtl: "5m",
  source: { file: "/home/u/.factory/config.json", path: "custom_models[0]" },
  ...over
})

/** A turn of text alone, as the tests write conversations. */
export const turn = (role: "user" | "assistant", text: string): Turn =>
  role === "user" ? { role, parts: [{ type: "text", text }] } : { role, parts: [{ type: "text", text }] }

export const makeRequest = (entry: ModelEntry, over: Partial<LlmRequest> = {}): LlmRequest => ({
  model: entry,
  conversation: { id: "conv-1", system: "Be brief.", turns: [turn("user", "Hi")] },
  maxOutputTokens: entry.maxOutputTokens,
  timeouts: { firstByte: Duration.seconds(5), idle: Duration.seconds(5) },
  maxRetries: 0,
  ...over
})

export const fixture = (api: string, name: string) =>
  readFileSync(join(import.meta.dir, "..", "fixtures", api, `${name}.sse`), "utf8")

export interface Collected {
  readonly events: ReadonlyArray<LlmEvent>
  readonly error: ProviderError | undefined
  readonly sent: ReadonlyArray<Sent>
  readonly text: string
  readonly finish: Extract<LlmEvent, { _tag: "Finish" }> | undefined
}

export const collect = async (
  script: Scripted | ((sent: Sent) => Scripted),
  request: LlmRequest = makeRequest(makeEntry())
): Promise<Collected> => {
  const { layer, sent } = fakeHttp(script)
  const events: Array<LlmEvent> = []
  const result = await Effect.runPromise(
    Effect.gen(function*() {
      const provider = yield* Provider.Provider
      return yield* Effect.result(Stream.runForEach(provider.stream(request), (e) => Effect.sync(() => events.push(e))))
    }).pipe(Effect.provide(Provider.layer.pipe(Layer.provide(layer))))
  )
  return {
    events,
    error: Result.isFailure(result) ? result.failure : undefined,
    sent,
    text: events.map((e) => (e._tag === "TextDelta" ? e.text : "")).join(""),
    finish: events.find((e): e is Extract<LlmEvent, { _tag: "Finish" }> => e._tag === "Finish")
  }
}
