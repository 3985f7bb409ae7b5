// Lowers a byok conversation to an Anthropic Messages request, with automatic prompt caching: cache_control
// breakpoints on the system prompt and on the latest user turn (each one's lookback of about 20 blocks finds the
// entry the previous turn wrote), never more than the API's 4.
import type { ModelEntry } from "../../config/schema.ts"
import { breakpointTurn, cacheControl } from "../caching.ts"
import type { LlmRequest } from "../conversation.ts"

export const MAX_BREAKPOINTS = 4

/**
 * `{base}/v1/messages`; droid documents https://api.anthropic.com without /v1, so the version is added unless
 * base_url already names one.
 */
export const messagesUrl = (entry: Pick<ModelEntry, "baseUrl" | "endpoint">) =>
  entry.endpoint.versioned ? `${entry.baseUrl}/messages` : `${entry.baseUrl}/v1/messages`

export const buildBody = (request: LlmRequest): Record<string, unknown> => {
  const { model, conversation } = request
  const marker = cacheControl(model)
  const last = breakpointTurn(conversation.turns)
  const messages = conversation.turns.map((t, i) => ({
    role: t.role,
    content: [{ type: "text", text: t.content, ...(i === last ? { cache_control: marker } : {}) }]
  }))
  return {
    max_tokens: request.maxOutputTokens,
    ...model.extraArgs,
    model: model.model,
    ...(conversation.system !== undefined
      ? { system: [{ type: "text", text: conversation.system, cache_control: marker }] }
      : {}),
    messages,
    stream: true
  }
}
