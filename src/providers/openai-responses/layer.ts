// The OpenAI Responses wire format: POST {base_url}/responses, streamed, Bearer auth.
import { Redacted } from "effect"
import { makeWireFormat } from "../sse.ts"
import { buildBody, responsesUrl } from "./request.ts"
import { makeParser } from "./stream.ts"

export const make = () =>
  makeWireFormat({
    url: (entry) => responsesUrl(entry.baseUrl),
    authHeaders: (entry) => ({ authorization: `Bearer ${Redacted.value(entry.apiKey)}` }),
    body: buildBody,
    parser: makeParser
  })
