// The Chat Completions wire format: POST {base_url}/chat/completions, streamed, Bearer auth.
import { Redacted, Stream } from "effect"
import { makeWireFormat, type SseMessage } from "../sse.ts"
import { buildBody, chatCompletionsUrl } from "./request.ts"
import { makeParser } from "./stream.ts"

export const make = () =>
  makeWireFormat({
    url: (entry) => chatCompletionsUrl(entry.baseUrl),
    authHeaders: (entry) => ({ authorization: `Bearer ${Redacted.value(entry.apiKey)}` }),
    body: buildBody,
    parser: makeParser,
    // A server that ignores `stream: true` answers with one JSON body: read it as a single chunk.
    messages: (response) =>
      (response.headers["content-type"] ?? "").includes("application/json")
        ? Stream.fromEffect(response.text).pipe(
          Stream.flatMap((data) =>
            Stream.make<Array<SseMessage>>(
              { _tag: "Event", event: "message", data },
              { _tag: "Event", event: "message", data: "[DONE]" }
            )
          )
        )
        : undefined
  })
