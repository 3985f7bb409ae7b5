// Lowers a byok conversation to a Chat Completions request body.
import type { LlmRequest } from "../conversation.ts"
import { quirksFor } from "./quirks.ts"

export const chatCompletionsUrl = (baseUrl: string) => `${baseUrl}/chat/completions`

export const buildBody = (request: LlmRequest): Record<string, unknown> => {
  const { model, conversation } = request
  const quirks = quirksFor(model.baseUrl)
  const messages = [
    ...(conversation.system !== undefined ? [{ role: "system", content: conversation.system }] : []),
    ...conversation.turns.map((t) => ({ role: t.role, content: t.content }))
  ]
  return {
    [quirks.maxTokensField]: request.maxOutputTokens,
    ...(quirks.streamOptions ? { stream_options: { include_usage: true } } : {}),
    ...(quirks.promptCacheKey ? { prompt_cache_key: conversation.id } : {}),
    // The user's extraArgs may override any default above, but not what makes this a streamed chat request.
    ...model.extraArgs,
    model: model.model,
    messages,
    stream: true
  }
}
