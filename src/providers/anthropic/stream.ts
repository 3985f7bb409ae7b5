// The Anthropic Messages stream parser: message_start → content blocks (text_delta, thinking_delta) →
// message_delta (stop reason, cumulative usage) → message_stop. `ping` and unknown events are ignored; an in-band
// `error` event (overloaded_error after HTTP 200) becomes a typed error.
import type { FinishReason } from "../event.ts"
import { finishEvent } from "../event.ts"
import { fromInBand, type RequestContext } from "../http.ts"
import { cutShort, type Emit, notThisApi, parseData, type WireParser } from "../parser.ts"
import { message, type SseMessage } from "../sse.ts"
import { mergeUsage, normaliseUsage } from "./usage.ts"
import type { AnthropicEvent, AnthropicUsage } from "./wire.ts"

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

/** The parser of one response. Usage is merged as it comes: message_delta's is cumulative and overwrites. */
export const makeParser = (ctx: RequestContext, requestId: string | undefined, emit: Emit): WireParser => {
  let started = false
  /** Some text or reasoning reached the user: an error now is mid-stream. */
  let emitted = false
  let stopReason: string | undefined
  let usage: AnthropicUsage | undefined

  const finish = () =>
    emit.event(finishEvent(mapStopReason(stopReason), stopReason, usage !== undefined ? normaliseUsage(usage) : undefined))

  return {
    message: (name, data) => {
      const value = parseData(ctx, emit, data, emitted)
      if (value === undefined) return
      const event = value as AnthropicEvent
      switch (event.type ?? name) {
        case "message_start": {
          if (!started) emit.event({ _tag: "Start", requestId, model: event.message?.model })
          started = true
          if (event.message?.usage) usage = mergeUsage(usage, event.message.usage)
          if (usage !== undefined) emit.event({ _tag: "Usage", usage: normaliseUsage(usage) })
          return
        }
        case "content_block_delta": {
          const d = event.delta
          if (d?.type === "text_delta" && typeof d.text === "string" && d.text !== "") {
            emit.text(d.text)
            emitted = true
          } else if (d?.type === "thinking_delta" && typeof d.thinking === "string" && d.thinking !== "") {
            emit.reasoning(d.thinking)
            emitted = true
          }
          return
        }
        case "message_delta":
          stopReason = event.delta?.stop_reason ?? stopReason ?? undefined
          if (event.usage) usage = mergeUsage(usage, event.usage)
          return
        case "message_stop":
          return finish()
        case "error":
          return emit.fail(fromInBand(ctx, event, emitted, requestId))
        default:
          // ping, content_block_start/stop, signature and citation deltas, and event types added later.
          return
      }
    },
    broken: (cause) => (stopReason !== undefined ? finish() : emit.fail(cutShort(ctx, cause, emitted, requestId))),
    end: () => {
      if (stopReason !== undefined) return finish()
      if (!started) return emit.fail(notThisApi(ctx, "Messages API", "an Anthropic"))
      emit.fail(cutShort(ctx, "the stream ended before message_stop", emitted, requestId))
    }
  }
}

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
