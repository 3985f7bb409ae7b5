// Lowers a byok conversation to an OpenAI Responses request: `instructions` for the system prompt, the turns as
// typed message items, `store: false` (byok keeps the history itself), and a stable prompt_cache_key.
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
    // Every item says its type, with typed content parts: servers that translate Responses to chat (llama.cpp, and
    // gateways) refuse an untyped {role, content} item ("Cannot determine type of 'item'") from the second turn on.
    input: conversation.turns.map((t) => ({
      type: "message",
      role: t.role,
      content: [{ type: t.role === "user" ? "input_text" : "output_text", text: t.content }]
    })),
    stream: true
  }
}
