// Lowers a byok conversation to a Chat Completions request body.
import { breakpointTurn, cacheControl } from "../caching.ts"
import { type LlmRequest, promptCacheKey } from "../conversation.ts"
import { quirksFor } from "./quirks.ts"

export const chatCompletionsUrl = (baseUrl: string) => `${baseUrl}/chat/completions`

export const buildBody = (request: LlmRequest): Record<string, unknown> => {
  const { model, conversation } = request
  const quirks = quirksFor(model)
  // With cache_control, the marked messages take content parts; all others stay plain strings.
  const marker = quirks.cacheControl ? cacheControl(model) : undefined
  const content = (text: string, marked: boolean) =>
    marker !== undefined && marked ? [{ type: "text", text, cache_control: marker }] : text
  const last = breakpointTurn(conversation.turns)
  const messages = [
    ...(conversation.system !== undefined ? [{ role: "system", content: content(conversation.system, true) }] : []),
    ...conversation.turns.map((t, i) => ({ role: t.role, content: content(t.content, i === last) }))
  ]
  return {
    [quirks.maxTokensField]: request.maxOutputTokens,
    ...(quirks.streamOptions ? { stream_options: { include_usage: true } } : {}),
    ...(quirks.promptCacheKey ? { prompt_cache_key: promptCacheKey(request) } : {}),
    // The user's extraArgs may override any default above, but not what makes this a streamed chat request.
    ...model.extraArgs,
    model: model.model,
    messages,
    stream: true
  }
}
