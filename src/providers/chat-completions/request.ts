// Lowers a byok conversation to a Chat Completions request body: text as messages, an assistant's calls as
// `tool_calls`, each tool result as a `role: "tool"` message. Reasoning is not sent back: Chat Completions has no
// field for it that servers agree on.
import { breakpointTurn, cacheControl } from "../caching.ts"
import {
  type LlmRequest,
  promptCacheKey,
  sortedTools,
  textOf,
  type ToolChoice,
  type Turn,
  withEveryCallAnswered
} from "../conversation.ts"
import { quirksFor, reasoningFields } from "./quirks.ts"

export const chatCompletionsUrl = (baseUrl: string) => `${baseUrl}/chat/completions`

const toolChoiceOf = (choice: ToolChoice): unknown =>
  typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } }

export const buildBody = (request: LlmRequest): Record<string, unknown> => {
  const { model, conversation } = request
  const quirks = quirksFor(model)
  // With cache_control, the marked messages take content parts; all others stay plain strings.
  const marker = quirks.cacheControl ? cacheControl(model) : undefined
  const content = (text: string, marked: boolean) =>
    marker !== undefined && marked ? [{ type: "text", text, cache_control: marker }] : text
  const turns = withEveryCallAnswered(conversation.turns)
  const last = breakpointTurn(turns)
  const messagesOf = (t: Turn, i: number): ReadonlyArray<Record<string, unknown>> => {
    const text = textOf(t)
    if (t.role === "user") {
      const results = t.parts.flatMap((p) => (p.type === "tool-result" ? [{ role: "tool", tool_call_id: quirks.callId(p.callId), content: p.output }] : []))
      const images = t.parts.flatMap((p) => (p.type === "image" ? [{ type: "image_url", image_url: { url: `data:${p.mediaType};base64,${p.data}` } }] : []))
      const said = t.parts.some((p) => p.type === "text") || (results.length === 0 && images.length === 0)
      // With images the message takes content parts: the images, then its text (when there is any), as in the other
      // two formats (and as the vendors advise: images before the question about them).
      const message = images.length > 0
        ? [{ role: "user", content: [...images, ...(text !== "" ? [{ type: "text", text }] : [])] }]
        : said
        ? [{ role: "user", content: content(text, i === last) }]
        : []
      return [...results, ...message]
    }
    const calls = t.parts.flatMap((p) =>
      p.type === "tool-call" ? [{ id: quirks.callId(p.id), type: "function", function: { name: p.name, arguments: p.arguments } }] : []
    )
    return [{ role: "assistant", content: calls.length > 0 && text === "" ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) }]
  }
  const messages = [
    ...(conversation.system !== undefined ? [{ role: "system", content: content(conversation.system, true) }] : []),
    ...turns.flatMap(messagesOf)
  ]
  const tools = sortedTools(request.tools)
  return {
    [quirks.maxTokensField]: request.maxOutputTokens,
    ...(quirks.streamOptions ? { stream_options: { include_usage: true } } : {}),
    ...(quirks.promptCacheKey ? { prompt_cache_key: promptCacheKey(request) } : {}),
    ...reasoningFields(model, request.reasoningEffort),
    ...(tools.length > 0
      ? {
        tools: tools.map((tool) => ({
          type: "function",
          function: {
            name: tool.name,
            ...(tool.description !== undefined ? { description: tool.description } : {}),
            parameters: tool.parameters
          }
        })),
        ...(request.toolChoice !== undefined ? { tool_choice: toolChoiceOf(request.toolChoice) } : {})
      }
      : {}),
    // The user's extraArgs may override any default above, but not what makes this a streamed chat request.
    ...model.extraArgs,
    model: model.model,
    messages,
    stream: true
  }
}
