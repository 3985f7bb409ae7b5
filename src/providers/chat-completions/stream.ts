// The Chat Completions stream parser: a pure step over SSE messages. Text from `delta.content`, reasoning from
// `delta.reasoning_content` (DeepSeek, vLLM) or `delta.reasoning` (OpenRouter, Ollama); usage from the last chunk
// that carries one (a separate `choices: []` chunk on OpenAI, the finish chunk on DeepSeek); the stream ends at
// `data: [DONE]`. In-band `{"error": …}` chunks after HTTP 200 become typed errors.
import type { FinishReason, LlmEvent } from "../event.ts"
import { emptyUsage } from "../event.ts"
import { fromInBand, type RequestContext } from "../http.ts"
import { cutShort, notThisApi, parseData, type WireInput, type WireOutput, type WireParser } from "../parser.ts"
import { normaliseUsage } from "./usage.ts"
import type { ChatChunk, ChatUsage, LlamaCppTimings } from "./wire.ts"

export interface State {
  readonly started: boolean
  /** Some text or reasoning reached the user: an error now is mid-stream. */
  readonly emitted: boolean
  readonly finishReason: string | undefined
  /** The last usage object seen; normalised once, at the end. */
  readonly usage: ChatUsage | undefined
  readonly timings: LlamaCppTimings | undefined
}

export const mapFinishReason = (raw: string | undefined): FinishReason => {
  switch (raw) {
    case undefined:
    case "stop":
    case "eos":
      return "stop"
    case "length":
      return "length"
    case "content_filter":
      return "content-filter"
    case "tool_calls":
    case "function_call":
      return "tool-calls"
    case "error":
      return "error"
    default:
      return "other"
  }
}

const finish = (state: State): LlmEvent => ({
  _tag: "Finish",
  reason: mapFinishReason(state.finishReason ?? undefined),
  rawReason: state.finishReason,
  usage: state.usage !== undefined ? normaliseUsage(state.usage, state.timings) : emptyUsage
})

/** Applies one chunk to the state; shared by the streaming parser and the non-streaming fallback. */
export const applyChunk = (
  ctx: RequestContext,
  requestId: string | undefined,
  state: State,
  chunk: ChatChunk
): readonly [State, Array<WireOutput>] => {
  const out: Array<WireOutput> = []
  if (chunk.error !== undefined && chunk.error !== null || chunk.object === "error") {
    return [state, [{ _tag: "Fail", error: fromInBand(ctx, chunk, state.emitted, requestId) }]]
  }
  let next = state
  if (!state.started) {
    out.push({ _tag: "Start", requestId, model: chunk.model })
    next = { ...next, started: true }
  }
  const choice = chunk.choices?.[0]
  const delta = choice?.delta ?? choice?.message
  if (delta) {
    const reasoning = delta.reasoning_content ?? delta.reasoning
    if (typeof reasoning === "string" && reasoning !== "") {
      out.push({ _tag: "ReasoningDelta", text: reasoning })
      next = { ...next, emitted: true }
    }
    const text = typeof delta.content === "string" && delta.content !== "" ? delta.content : delta.refusal
    if (typeof text === "string" && text !== "") {
      out.push({ _tag: "TextDelta", text })
      next = { ...next, emitted: true }
    }
  }
  if (typeof choice?.finish_reason === "string") next = { ...next, finishReason: choice.finish_reason }
  if (chunk.timings !== undefined) next = { ...next, timings: chunk.timings }
  // Keep the last usage, never sum: Gemini repeats cumulative usage on every chunk.
  if (typeof chunk.usage === "object" && chunk.usage !== null) next = { ...next, usage: chunk.usage }
  return [next, out]
}

export const initialState = (): State => ({
  started: false,
  emitted: false,
  finishReason: undefined,
  usage: undefined,
  timings: undefined
})

export const makeParser = (ctx: RequestContext, requestId: string | undefined): WireParser<State> => ({
  initial: initialState,
  step: (state: State, input: WireInput): readonly [State, ReadonlyArray<WireOutput>] => {
    if (input._tag === "Broken") {
      // The connection failed. If the server had already said why it stopped, only [DONE] was lost.
      return [state, [state.finishReason !== undefined ? finish(state) : cutShort(ctx, input.cause, state.emitted, requestId)]]
    }
    const data = input.data.trim()
    if (data === "[DONE]") return [state, [finish(state)]]
    if (data === "") return [state, []]
    const chunk = parseData(ctx, data, state.emitted)
    if ("fail" in chunk) return [state, [chunk.fail]]
    if (input.event === "error") {
      return [state, [{ _tag: "Fail", error: fromInBand(ctx, chunk.value, state.emitted, requestId) }]]
    }
    return applyChunk(ctx, requestId, state, chunk.value as ChatChunk)
  },
  onHalt: (state: State): ReadonlyArray<WireOutput> => {
    // No [DONE]: accept the answer when the server said why it stopped (some proxies drop [DONE]).
    if (state.finishReason !== undefined) return [finish(state)]
    if (!state.started) return [notThisApi(ctx, "Chat Completions", "an OpenAI-compatible")]
    return [cutShort(ctx, "the stream ended before the answer was complete (no finish_reason, no [DONE])", state.emitted, requestId)]
  }
})
