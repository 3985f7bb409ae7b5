// Lowers a byok conversation to an OpenAI Responses request: `instructions` for the system prompt, the turns as
// typed items (messages, function calls and their outputs, reasoning with its encrypted content), `store: false`
// (byok keeps the history itself), and a stable prompt_cache_key (tools do not change it).
import {
  type AssistantPart,
  type LlmRequest,
  promptCacheKey,
  sortedTools,
  type ToolChoice,
  type UserPart,
  withEveryCallAnswered
} from "../conversation.ts"

/** The Responses API refuses max_output_tokens below 16. */
const MIN_OUTPUT_TOKENS = 16

export const responsesUrl = (baseUrl: string) => `${baseUrl}/responses`

/**
 * The input items of a user turn: its text as one message (typed content parts: servers that translate Responses
 * to chat, llama.cpp and gateways, refuse an untyped {role, content} item), each tool result as a
 * function_call_output.
 */
const userItems = (parts: ReadonlyArray<UserPart>): ReadonlyArray<Record<string, unknown>> => {
  const said = parts.flatMap((p): ReadonlyArray<Record<string, unknown>> =>
    p.type === "text"
      ? [{ type: "input_text", text: p.text }]
      : p.type === "image"
      ? [{ type: "input_image", image_url: `data:${p.mediaType};base64,${p.data}` }]
      : []
  )
  return [
    ...parts.flatMap((p) => (p.type === "tool-result" ? [{ type: "function_call_output", call_id: p.callId, output: p.output }] : [])),
    ...(said.length > 0 || parts.length === 0 ? [{ type: "message", role: "user", content: said }] : [])
  ]
}

/**
 * The items of an assistant turn, in order: reasoning only from OpenAI and the same model, with its encrypted
 * content (without it, the API could not use it); text as an output message; calls as function_call items.
 */
const assistantItems = (parts: ReadonlyArray<AssistantPart>, model: string): ReadonlyArray<Record<string, unknown>> =>
  parts.flatMap((p): ReadonlyArray<Record<string, unknown>> => {
    switch (p.type) {
      case "text":
        return p.text === "" ? [] : [{ type: "message", role: "assistant", content: [{ type: "output_text", text: p.text }] }]
      case "reasoning":
        return p.format === "openai" && p.model === model && p.encrypted !== undefined
          ? [{
            type: "reasoning",
            ...(p.itemId !== undefined ? { id: p.itemId } : {}),
            summary: p.text !== "" ? [{ type: "summary_text", text: p.text }] : [],
            encrypted_content: p.encrypted
          }]
          : []
      case "tool-call":
        return [{ type: "function_call", call_id: p.id, name: p.name, arguments: p.arguments }]
    }
  })

const toolChoiceOf = (choice: ToolChoice): unknown => typeof choice === "string" ? choice : { type: "function", name: choice.name }

/**
 * `reasoning` for an effort: summaries stream (`summary: "auto"`), and, since byok keeps the history itself
 * (`store: false`), the encrypted reasoning comes back to be sent with the next turn. "none" asks for no
 * reasoning; "off" (or nothing) sends nothing.
 */
const reasoningFor = (effort: LlmRequest["reasoningEffort"]): Record<string, unknown> =>
  effort === undefined || effort === "off"
    ? {}
    : effort === "none"
    ? { reasoning: { effort: "none" } }
    : { reasoning: { effort, summary: "auto" }, include: ["reasoning.encrypted_content"] }

export const buildBody = (request: LlmRequest): Record<string, unknown> => {
  const { model, conversation } = request
  const tools = sortedTools(request.tools)
  return {
    max_output_tokens: Math.max(MIN_OUTPUT_TOKENS, request.maxOutputTokens),
    store: false,
    prompt_cache_key: promptCacheKey(request),
    ...reasoningFor(request.reasoningEffort),
    ...model.extraArgs,
    model: model.model,
    ...(conversation.system !== undefined ? { instructions: conversation.system } : {}),
    ...(tools.length > 0
      ? {
        tools: tools.map((tool) => ({
          type: "function",
          name: tool.name,
          ...(tool.description !== undefined ? { description: tool.description } : {}),
          parameters: tool.parameters
        })),
        ...(request.toolChoice !== undefined ? { tool_choice: toolChoiceOf(request.toolChoice) } : {})
      }
      : {}),
    input: withEveryCallAnswered(conversation.turns).flatMap((t) => (t.role === "user" ? userItems(t.parts) : assistantItems(t.parts, model.model))),
    stream: true
  }
}
