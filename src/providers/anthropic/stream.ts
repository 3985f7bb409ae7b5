// The Anthropic Messages stream parser: message_start → content blocks (text_delta, thinking_delta) →
// message_delta (stop reason, cumulative usage) → message_stop. `ping` and unknown events are ignored; an in-band
// `error` event (overloaded_error after HTTP 200) becomes a typed error.
import type { FinishReason, LlmEvent } from "../event.ts"
import { emptyUsage } from "../event.ts"
import { fromInBand, type RequestContext } from "../http.ts"
import { cutShort, notThisApi, parseData, type WireInput, type WireOutput, type WireParser } from "../parser.ts"
import { message, type SseMessage } from "../sse.ts"
import { mergeUsage, normaliseUsage } from "./usage.ts"
import type { AnthropicEvent, AnthropicUsage } from "./wire.ts"

export interface State {
  readonly started: boolean
  readonly emitted: boolean
  readonly stopReason: string | undefined
  readonly usage: AnthropicUsage | undefined
}

export const mapStopReason = (raw: string | undefined): FinishReason => {
  switch (raw) {
    case undefined:
    case "end_turn":
    case "stop_sequence":
      return "stop"
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length"
    case "tool_use":
      return "tool-calls"
    case "refusal":
      return "content-filter"
    default:
      return "other"
  }
}

const finish = (state: State): LlmEvent => ({
  _tag: "Finish",
  reason: mapStopReason(state.stopReason),
  rawReason: state.stopReason,
  usage: state.usage !== undefined ? normaliseUsage(state.usage) : emptyUsage
})

export const makeParser = (ctx: RequestContext, requestId: string | undefined): WireParser<State> => ({
  initial: () => ({ started: false, emitted: false, stopReason: undefined, usage: undefined }),
  step: (state, input: WireInput) => {
    if (input._tag === "Broken") {
      return [state, [state.stopReason !== undefined ? finish(state) : cutShort(ctx, input.cause, state.emitted, requestId)]]
    }
    const parsed = parseData(ctx, input.data, state.emitted)
    if ("fail" in parsed) return [state, [parsed.fail]]
    const event = parsed.value as AnthropicEvent
    const type = event.type ?? input.event
    switch (type) {
      case "message_start": {
        const out: Array<WireOutput> = []
        if (!state.started) out.push({ _tag: "Start", requestId, model: event.message?.model })
        const usage = event.message?.usage ? mergeUsage(state.usage, event.message.usage) : state.usage
        if (usage !== undefined) out.push({ _tag: "Usage", usage: normaliseUsage(usage) })
        return [{ ...state, started: true, usage }, out]
      }
      case "content_block_delta": {
        const d = event.delta
        if (d?.type === "text_delta" && typeof d.text === "string" && d.text !== "") {
          return [{ ...state, emitted: true }, [{ _tag: "TextDelta", text: d.text }]]
        }
        if (d?.type === "thinking_delta" && typeof d.thinking === "string" && d.thinking !== "") {
          return [{ ...state, emitted: true }, [{ _tag: "ReasoningDelta", text: d.thinking }]]
        }
        return [state, []]
      }
      case "message_delta": {
        const stopReason = event.delta?.stop_reason ?? state.stopReason
        const usage = event.usage ? mergeUsage(state.usage, event.usage) : state.usage
        return [{ ...state, stopReason: stopReason ?? undefined, usage }, []]
      }
      case "message_stop":
        return [state, [finish(state)]]
      case "error":
        return [state, [{ _tag: "Fail", error: fromInBand(ctx, event, state.emitted, requestId) }]]
      default:
        // ping, content_block_start/stop, signature and citation deltas, and event types added later.
        return [state, []]
    }
  },
  onHalt: (state) => {
    if (state.stopReason !== undefined) return [finish(state)]
    if (!state.started) return [notThisApi(ctx, "Messages API", "an Anthropic")]
    return [cutShort(ctx, "the stream ended before message_stop", state.emitted, requestId)]
  }
})

/**
 * A whole Message (a server that ignored `stream: true`) as the events a stream would have carried: message_start
 * with the usage, one delta per text or thinking block, message_delta with the stop reason, message_stop. Anything
 * else (an error object, text that is not JSON) goes to the parser as it is, which says what it is.
 */
export const fromJson = (body: string): ReadonlyArray<SseMessage> => {
  let value: {
    type?: string
    id?: string
    model?: string
    content?: ReadonlyArray<{ type?: string; text?: string; thinking?: string }>
    stop_reason?: string | null
    usage?: AnthropicUsage
  }
  try {
    value = JSON.parse(body)
  } catch {
    return [message(body)]
  }
  if (value?.type !== "message") return [message(body)]
  return [
    message({ type: "message_start", message: { id: value.id, model: value.model, usage: value.usage } }),
    ...(value.content ?? []).flatMap((block, index) =>
      block.type === "text" && typeof block.text === "string"
        ? [message({ type: "content_block_delta", index, delta: { type: "text_delta", text: block.text } })]
        : block.type === "thinking" && typeof block.thinking === "string"
        ? [message({ type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: block.thinking } })]
        : []
    ),
    message({ type: "message_delta", delta: { stop_reason: value.stop_reason ?? "end_turn" }, usage: value.usage }),
    message({ type: "message_stop" })
  ]
}
