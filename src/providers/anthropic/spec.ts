// The Anthropic Messages wire format: POST {base_url}/v1/messages, streamed, x-api-key + anthropic-version.
import { Redacted } from "effect"
import { anthropicCacheMinimum } from "../caching.ts"
import type { WireSpec } from "../format.ts"
import { buildBody, messagesUrl } from "./request.ts"
import { fromJson, makeParser } from "./stream.ts"

export const ANTHROPIC_VERSION = "2023-06-01"

export const spec: WireSpec = {
  label: "Anthropic Messages",
  addsVersion: true,
  cacheMinimum: (entry) => anthropicCacheMinimum(entry.model),
  url: messagesUrl,
  authHeaders: (entry) => ({ "x-api-key": Redacted.value(entry.apiKey), "anthropic-version": ANTHROPIC_VERSION }),
  body: buildBody,
  parser: makeParser,
  fromJson
}
