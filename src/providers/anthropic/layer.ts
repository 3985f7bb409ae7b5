// The Anthropic Messages wire format: POST {base_url}/v1/messages, streamed, x-api-key + anthropic-version.
import { Redacted } from "effect"
import { makeWireFormat } from "../sse.ts"
import { buildBody, messagesUrl } from "./request.ts"
import { makeParser } from "./stream.ts"

export const ANTHROPIC_VERSION = "2023-06-01"

export const make = () =>
  makeWireFormat({
    url: (entry) => messagesUrl(entry.baseUrl),
    authHeaders: (entry) => ({ "x-api-key": Redacted.value(entry.apiKey), "anthropic-version": ANTHROPIC_VERSION }),
    body: buildBody,
    parser: makeParser
  })
