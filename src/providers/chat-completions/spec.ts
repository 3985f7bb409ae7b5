// The Chat Completions wire format: POST {base_url}/chat/completions, streamed, Bearer auth.
import { Redacted } from "effect"
import { anthropicCacheMinimum, OPENAI_CACHE_MINIMUM } from "../caching.ts"
import type { WireSpec } from "../format.ts"
import { message } from "../sse.ts"
import { quirksFor } from "./quirks.ts"
import { buildBody, chatCompletionsUrl } from "./request.ts"
import { makeParser } from "./stream.ts"

export const spec: WireSpec = {
  label: "Chat Completions",
  addsVersion: false,
  // Hosts that cache: OpenAI itself, and OpenRouter's Anthropic models (through cache_control marks).
  cacheMinimum: (entry) => {
    const quirks = quirksFor(entry)
    if (quirks.cacheControl && entry.model.startsWith("anthropic/")) return anthropicCacheMinimum(entry.model)
    return quirks.promptCacheKey ? OPENAI_CACHE_MINIMUM : undefined
  },
  url: (entry) => chatCompletionsUrl(entry.baseUrl),
  authHeaders: (entry) => ({ authorization: `Bearer ${Redacted.value(entry.apiKey)}` }),
  body: buildBody,
  parser: makeParser,
  // The parser reads a whole chat.completion (`message` in place of `delta`) as one chunk.
  fromJson: (body) => [message(body), message("[DONE]")]
}
