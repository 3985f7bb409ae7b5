// The Anthropic Messages stream parser: message_start → content blocks (text_delta, thinking_delta) →
// message_delta (stop reason, cumulative usage) → message_stop. `ping` and unknown events are ignored; an in-band
// `error` event (overloaded_error after HTTP 200) becomes a typed error.
import type { FinishReason } from "../event.ts"
import { finishEvent } from "../event.ts"
import { fromInBand, type RequestContext } from "../http.ts"
import { cutShort, type Emit, notThisApi, parseData, type WireParser } from "../parser.ts"
import { message, type SseMessage } from "../sse.ts"
import { mergeUsage, normaliseUsage } from "./usage.ts"
import type { AnthropicBlock, AnthropicEvent, AnthropicUsage } from "./wire.ts"

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
  /**
   * The content blocks begun and not yet stopped, by index: a tool call (its input, when it came whole in the
   * start and no delta follows) or a thinking block (its signature, which comes as a delta before it stops).
   */
  const blocks = new Map<number, { kind: "call"; input: string; deltas: boolean } | { kind: "thinking"; signature?: string; redacted?: string }>()
  let calls = 0

  /** A block stops: a call's arguments are complete; a thinking block gives what it needs to be sent back. */
  const stopBlock = (index: number) => {
    const block = blocks.get(index)
    if (block === undefined) return
    blocks.delete(index)
    if (block.kind === "call") {
      if (!block.deltas && block.input !== "") emit.event({ _tag: "ToolCallDelta", index, text: block.input })
      emit.event({ _tag: "ToolCallEnd", index })
    } else {
      emit.event({ _tag: "ReasoningEnd", signature: block.signature, redacted: block.redacted })
    }
  }

  const finish = () => {
    for (const index of [...blocks.keys()]) stopBlock(index)
    const reason = mapStopReason(stopReason)
    emit.event(finishEvent(calls > 0 && reason === "stop" ? "tool-calls" : reason, stopReason, usage !== undefined ? normaliseUsage(usage) : undefined))
  }

  const startBlock = (index: number, block: NonNullable<AnthropicEvent["content_block"]>) => {
    switch (block.type) {
      case "tool_use":
      case "server_tool_use": {
        // A server tool (web search…) runs on Anthropic's side; it is reported as what it is, by its kind.
        const input = block.input !== undefined && JSON.stringify(block.input) !== "{}" ? JSON.stringify(block.input) : ""
        blocks.set(index, { kind: "call", input, deltas: false })
        calls++
        emitted = true
        emit.event({
          _tag: "ToolCallStart",
          index,
          id: block.id ?? `toolu_${index}`,
          name: block.name ?? block.type,
          kind: block.type === "tool_use" ? "function" : block.type
        })
        return
      }
      case "thinking":
        blocks.set(index, { kind: "thinking", ...(block.signature ? { signature: block.signature } : {}) })
        return
      case "redacted_thinking":
        blocks.set(index, { kind: "thinking", ...(block.data !== undefined ? { redacted: block.data } : {}) })
        return
    }
  }

  const handle = (event: AnthropicEvent, name?: string): void => {
    switch (event.type ?? name) {
      case "message_start": {
        if (!started) emit.event({ _tag: "Start", requestId, model: event.message?.model })
        started = true
        // Some streams say why the message stops already here (a whole tool call); message_delta may override.
        if (typeof event.message?.stop_reason === "string") stopReason = event.message.stop_reason
        if (event.message?.usage) usage = mergeUsage(usage, event.message.usage)
        if (usage !== undefined) emit.event({ _tag: "Usage", usage: normaliseUsage(usage) })
        // Programmatic tool calling sends the whole message here (its tool_use blocks and stop_reason), then
        // message_stop: its content is read as if it had streamed.
        if (Array.isArray(event.message?.content)) for (const e of blockEvents(event.message.content)) handle(e)
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
        } else if (d?.type === "input_json_delta" && typeof d.partial_json === "string") {
          const block = blocks.get(event.index ?? -1)
          if (block?.kind === "call" && d.partial_json !== "") {
            block.deltas = true
            emit.event({ _tag: "ToolCallDelta", index: event.index!, text: d.partial_json })
          }
        } else if (d?.type === "signature_delta" && typeof d.signature === "string") {
          const block = blocks.get(event.index ?? -1)
          if (block?.kind === "thinking") block.signature = (block.signature ?? "") + d.signature
        }
        return
      }
      case "content_block_start":
        if (event.content_block !== undefined && typeof event.index === "number") startBlock(event.index, event.content_block)
        return
      case "content_block_stop":
        if (typeof event.index === "number") stopBlock(event.index)
        return
      case "message_delta":
        stopReason = event.delta?.stop_reason ?? stopReason ?? undefined
        if (event.usage) usage = mergeUsage(usage, event.usage)
        return
      case "message_stop":
        return finish()
      case "error":
        return emit.fail(fromInBand(ctx, event, emitted, requestId))
      default:
        // ping, citation deltas, and event types added later.
        return
    }
  }

  return {
    message: (name, data) => {
      const value = parseData(ctx, emit, data, emitted)
      if (value !== undefined) handle(value as AnthropicEvent, name)
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
/** A whole message's content blocks as the events a stream carries for them, the first at index `from`. */
const blockEvents = (content: ReadonlyArray<AnthropicBlock>, from = 0): ReadonlyArray<AnthropicEvent> =>
  content.flatMap((block, i): ReadonlyArray<AnthropicEvent> => {
    const index = from + i
    return block.type === "text" && typeof block.text === "string"
      ? [{ type: "content_block_delta", index, delta: { type: "text_delta", text: block.text } }]
      : block.type === "thinking" && typeof block.thinking === "string"
      ? [
        { type: "content_block_start", index, content_block: { type: "thinking", ...(block.signature !== undefined ? { signature: block.signature } : {}) } },
        { type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: block.thinking } },
        { type: "content_block_stop", index }
      ]
      : block.type === "tool_use" || block.type === "server_tool_use" || block.type === "redacted_thinking"
      ? [{ type: "content_block_start", index, content_block: block }, { type: "content_block_stop", index }]
      : []
  })

export const fromJson = (body: string): ReadonlyArray<SseMessage> => {
  let value: {
    type?: string
    id?: string
    model?: string
    content?: ReadonlyArray<AnthropicBlock>
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
    ...blockEvents(value.content ?? []).map((e) => message(e)),
    message({ type: "message_delta", delta: { stop_reason: value.stop_reason ?? "end_turn" }, usage: value.usage }),
    message({ type: "message_stop" })
  ]
}
