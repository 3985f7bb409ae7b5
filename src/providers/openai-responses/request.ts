// Lowers a byok conversation to an OpenAI Responses request: `instructions` for the system prompt, the turns as
// input messages, `store: false` (byok keeps the history itself), and a stable prompt_cache_key.
import { type LlmRequest, promptCacheKey } from "../conversation.ts"

/** The Responses API refuses max_output_tokens below 16. */
const MIN_OUTPUT_TOKENS = 16

export const responsesUrl = (baseUrl: string) => `${baseUrl}/responses`

export const buildBody = (request: LlmRequest): Record<string, unknown> => {
  const { model, conversation } = request
  return {
    max_output_tokens: Math.max(MIN_OUTPUT_TOKENS, request.maxOutputTokens),
    store: false,
    prompt_cache_key: promptCacheKey(request),
    ...model.extraArgs,
    model: model.model,
    ...(conversation.system !== undefined ? { instructions: conversation.system } : {}),
    input: conversation.turns.map((t) => ({ role: t.role, content: t.content })),
    stream: true
  }
}
