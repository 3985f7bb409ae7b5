// Lowers a byok conversation to an Anthropic Messages request, with automatic prompt caching: cache_control
// breakpoints on the system prompt and on the latest user turn (each one's lookback of about 20 blocks finds the
// entry the previous turn wrote), never more than the API's 4. Tools come first in the cached prefix (tools →
// system → messages), in the order given, so the same tools give the same prefix.
import type { ModelEntry } from "../../config/schema.ts"
import { breakpointTurn, cacheControl } from "../caching.ts"
import {
  type AssistantPart,
  callIdFor,
  type LlmRequest,
  sortedTools,
  type ToolChoice,
  type UserPart,
  withEveryCallAnswered
} from "../conversation.ts"

export const MAX_BREAKPOINTS = 4

/**
 * `{base}/v1/messages`; droid documents https://api.anthropic.com without /v1, so the version is added unless
 * base_url already names one.
 */
export const messagesUrl = (entry: Pick<ModelEntry, "baseUrl" | "endpoint">) =>
  entry.endpoint.versioned ? `${entry.baseUrl}/messages` : `${entry.baseUrl}/v1/messages`

/** A call's arguments as the `input` object Anthropic wants back; text that is no JSON object goes as `{}`. */
const inputOf = (args: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(args === "" ? "{}" : args)
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

/** Anthropic's rule for tool_use ids; ids from other formats are rewritten to fit (the same for call and result). */
const idFor = (id: string) => callIdFor(id, { pattern: /^[A-Za-z0-9_-]+$/ })

const userBlock = (part: UserPart): Record<string, unknown> =>
  part.type === "text"
    ? { type: "text", text: part.text }
    : part.type === "image"
    ? { type: "image", source: { type: "base64", media_type: part.mediaType, data: part.data } }
    : { type: "tool_result", tool_use_id: idFor(part.callId), content: part.output, ...(part.isError ? { is_error: true } : {}) }

/**
 * An assistant part as a content block, or nothing: reasoning goes back only to Anthropic from the same model,
 * with its signature (a thinking block) or its data (redacted_thinking); any other is dropped, never sent to be
 * refused. An empty text block is refused by the API, so it is dropped too.
 */
const assistantBlock = (part: AssistantPart, model: string): ReadonlyArray<Record<string, unknown>> => {
  switch (part.type) {
    case "text":
      return part.text === "" ? [] : [{ type: "text", text: part.text }]
    case "reasoning":
      if (part.format !== "anthropic" || part.model !== model) return []
      if (part.redacted !== undefined) return [{ type: "redacted_thinking", data: part.redacted }]
      return part.signature !== undefined ? [{ type: "thinking", thinking: part.text, signature: part.signature }] : []
    case "tool-call":
      return [{ type: "tool_use", id: idFor(part.id), name: part.name, input: inputOf(part.arguments) }]
  }
}

const toolChoiceOf = (choice: ToolChoice): Record<string, unknown> =>
  choice === "auto" ? { type: "auto" } : choice === "none" ? { type: "none" } : choice === "required" ? { type: "any" } : { type: "tool", name: choice.name }

/**
 * Thinking budgets per effort. Anthropic's smallest is 1,024, and a budget counts inside max_tokens: at least 1,024
 * of the cap is left for the answer, so that thinking cannot use all of it.
 */
const THINKING_BUDGET = { low: 2048, medium: 8192, high: 24576 } as const
const MIN_THINKING_BUDGET = 1024
const ANSWER_ROOM = 1024

/**
 * Models that think adaptively (Claude 4.6 and later): `thinking: {type: "adaptive"}` with `output_config.effort`
 * instead of a budget, which the newest refuse.
 */
const ADAPTIVE = /(?:opus|sonnet)-4-(?:[6-9]|\d\d)|(?:opus|sonnet|haiku|mythos|fable)-(?:[5-9]|\d\d)(?:\D|$)|mythos/

export const thinksAdaptively = (model: string) => ADAPTIVE.test(model.toLowerCase().replace(/(\d)\.(\d)/g, "$1-$2"))

/**
 * `thinking` for an effort: adaptive thinking with the effort where the model has it; else a budget below the
 * output cap, or nothing when the cap leaves no room for one.
 */
export const thinkingFor = (effort: LlmRequest["reasoningEffort"], maxTokens: number, model = ""): Record<string, unknown> => {
  if (effort !== "low" && effort !== "medium" && effort !== "high") return {}
  if (thinksAdaptively(model)) return { thinking: { type: "adaptive" }, output_config: { effort } }
  const budget = Math.min(THINKING_BUDGET[effort], maxTokens - ANSWER_ROOM)
  return budget >= MIN_THINKING_BUDGET ? { thinking: { type: "enabled", budget_tokens: budget } } : {}
}

/** Why an effort gets no thinking on a model with a budget (its cap is too small for one), for the user. */
export const noRoomToThink = (effort: LlmRequest["reasoningEffort"], maxTokens: number, model: string): string | undefined =>
  (effort === "low" || effort === "medium" || effort === "high") && !thinksAdaptively(model) && maxTokens - ANSWER_ROOM < MIN_THINKING_BUDGET
    ? `reasoning effort ${effort} needs an output cap of at least ${(MIN_THINKING_BUDGET + ANSWER_ROOM).toLocaleString("en-US")} tokens on ${model} ` +
      `(${MIN_THINKING_BUDGET.toLocaleString("en-US")} to think, ${ANSWER_ROOM.toLocaleString("en-US")} to answer); the cap is ${maxTokens.toLocaleString("en-US")}, ` +
      "so it answers without thinking (raise --max-tokens or the model's maxOutputTokens)"
    : undefined

export const buildBody = (request: LlmRequest): Record<string, unknown> => {
  const { model, conversation } = request
  const marker = cacheControl(model)
  const turns = withEveryCallAnswered(conversation.turns)
  const last = breakpointTurn(turns)
  const messages = turns.flatMap((t, i) => {
    const blocks = t.role === "user" ? t.parts.map(userBlock) : t.parts.flatMap((p) => assistantBlock(p, model.model))
    // An assistant turn with nothing Anthropic can take (another format's reasoning alone) is left out.
    if (blocks.length === 0) return t.role === "user" ? [{ role: t.role, content: [{ type: "text", text: "" }] }] : []
    if (i === last) blocks[blocks.length - 1] = { ...blocks.at(-1)!, cache_control: marker }
    return [{ role: t.role, content: blocks }]
  })
  const tools = sortedTools(request.tools)
  return {
    max_tokens: request.maxOutputTokens,
    ...thinkingFor(request.reasoningEffort, request.maxOutputTokens, model.model),
    ...model.extraArgs,
    model: model.model,
    ...(tools.length > 0
      ? {
        tools: tools.map((tool) => ({
          name: tool.name,
          ...(tool.description !== undefined ? { description: tool.description } : {}),
          input_schema: tool.parameters
        })),
        ...(request.toolChoice !== undefined ? { tool_choice: toolChoiceOf(request.toolChoice) } : {})
      }
      : {}),
    ...(conversation.system !== undefined
      ? { system: [{ type: "text", text: conversation.system, cache_control: marker }] }
      : {}),
    messages,
    stream: true
  }
}
