// The OpenAI Responses wire format: POST {base_url}/responses, streamed, Bearer auth.
import { Redacted } from "effect"
import { OPENAI_CACHE_MINIMUM } from "../caching.ts"
import type { WireSpec } from "../format.ts"
import { buildBody, responsesUrl } from "./request.ts"
import { fromJson, makeParser } from "./stream.ts"

export const spec: WireSpec = {
  label: "OpenAI Responses",
  addsVersion: false,
  cacheMinimum: () => OPENAI_CACHE_MINIMUM,
  url: (entry) => responsesUrl(entry.baseUrl),
  authHeaders: (entry) => ({ authorization: `Bearer ${Redacted.value(entry.apiKey)}` }),
  body: buildBody,
  parser: makeParser,
  fromJson
}
