// The Chat Completions wire format: POST {base_url}/chat/completions, streamed, Bearer auth.
import { Effect, Redacted, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { VERSION } from "../../version.ts"
import type { LlmRequest } from "../conversation.ts"
import { requestIdOf, send } from "../http.ts"
import { runWireParser, type SseMessage, sseMessages, type WireFormat } from "../sse.ts"
import { buildBody, chatCompletionsUrl } from "./request.ts"
import { makeParser } from "./stream.ts"

export const make = Effect.fn("ChatCompletions.make")(function*() {
  const client = yield* HttpClient.HttpClient

  const stream = (request: LlmRequest) =>
    Stream.unwrap(Effect.gen(function*() {
      const ctx = { entry: request.model }
      const http = HttpClientRequest.post(chatCompletionsUrl(request.model.baseUrl)).pipe(
        HttpClientRequest.setHeaders({
          authorization: `Bearer ${Redacted.value(request.model.apiKey)}`,
          accept: "text/event-stream",
          "user-agent": `byok/${VERSION}`,
          ...request.model.extraHeaders
        }),
        HttpClientRequest.bodyText(JSON.stringify(buildBody(request)), "application/json")
      )
      const response = yield* send(ctx, client, http, request.timeout)
      const requestId = requestIdOf(response.headers)
      // A server that ignores `stream: true` answers with one JSON body: read it as a single chunk.
      const messages: Stream.Stream<SseMessage, unknown> =
        (response.headers["content-type"] ?? "").includes("application/json")
          ? Stream.fromEffect(response.text).pipe(
            Stream.flatMap((data) =>
              Stream.make<Array<SseMessage>>(
                { _tag: "Event", event: "message", data },
                { _tag: "Event", event: "message", data: "[DONE]" }
              )
            )
          )
          : sseMessages(response)
      return runWireParser(messages, makeParser(ctx, requestId))
    }))

  return { stream } satisfies WireFormat
})
