// The OpenAI Responses stream parser: text from response.output_text.delta, reasoning from the summary and
// reasoning text deltas, and one terminal event: response.completed / .incomplete (with its reason) / .failed.
// The `error` event comes flat (the spec) or nested under `error` (real streams); both are read.
import type { FinishReason } from "../event.ts"
import { finishEvent } from "../event.ts"
import { fromInBand, type RequestContext } from "../http.ts"
import { cutShort, type Emit, notThisApi, parseData, type WireParser } from "../parser.ts"
import { message, type SseMessage } from "../sse.ts"
import { normaliseUsage } from "./usage.ts"
import type { ResponsesEvent, ResponsesObject } from "./wire.ts"

export const mapIncompleteReason = (raw: string | undefined): FinishReason => {
  switch (raw) {
    case "max_output_tokens":
      return "length"
    case "content_filter":
      return "content-filter"
    default:
      return "other"
  }
}

const finish = (response: ResponsesObject | undefined, reason: FinishReason, rawReason: string | undefined) =>
  finishEvent(reason, rawReason, response?.usage ? normaliseUsage(response.usage) : undefined)

export const makeParser = (ctx: RequestContext, requestId: string | undefined, emit: Emit): WireParser => {
  let started = false
  /** Some text or reasoning reached the user: an error now is mid-stream. */
  let emitted = false
  const failWith = (payload: unknown) => emit.fail(fromInBand(ctx, payload, emitted, requestId))
  const delta = (kind: "text" | "reasoning", text: unknown) => {
    if (typeof text !== "string" || text === "") return
    emit[kind](text)
    emitted = true
  }

  return {
    message: (name, data) => {
      const value = parseData(ctx, emit, data, emitted)
      if (value === undefined) return
      const event = value as ResponsesEvent
      switch (event.type ?? name) {
        case "response.created":
        case "response.in_progress":
          if (!started) emit.event({ _tag: "Start", requestId, model: event.response?.model })
          started = true
          return
        case "response.output_text.delta":
        case "response.refusal.delta":
          return delta("text", event.delta)
        case "response.reasoning_summary_text.delta":
        case "response.reasoning_text.delta":
          return delta("reasoning", event.delta)
        case "response.completed": {
          const toolCall = event.response?.output?.some((o) => o.type === "function_call") ?? false
          return emit.event(finish(event.response, toolCall ? "tool-calls" : "stop", "completed"))
        }
        case "response.incomplete": {
          const raw = event.response?.incomplete_details?.reason
          return emit.event(finish(event.response, mapIncompleteReason(raw), raw))
        }
        case "response.failed":
          return failWith({ error: event.response?.error ?? { message: "the response failed" } })
        case "error":
          // Flat: {type, code, message}; nested: {type, error: {type, code, message}}.
          return failWith(event.error !== undefined ? event : { error: { code: event.code, message: event.message } })
        default:
          return
      }
    },
    broken: (cause) => emit.fail(cutShort(ctx, cause, emitted, requestId)),
    end: () =>
      emit.fail(
        started
          ? cutShort(ctx, "the stream ended before response.completed", emitted, requestId)
          : notThisApi(ctx, "Responses API", "an OpenAI")
      )
  }
}

/**
 * A whole Response object (a server that ignored `stream: true`) as the events a stream would have carried:
 * response.created, one delta per output text and reasoning summary, then the terminal event its status names.
 * Anything else goes to the parser as it is, which says what it is.
 */
export const fromJson = (body: string): ReadonlyArray<SseMessage> => {
  type Part = { type?: string; text?: string }
  type Item = { type?: string; content?: ReadonlyArray<Part>; summary?: ReadonlyArray<Part> }
  let value: Omit<ResponsesObject, "output"> & { object?: string; output?: ReadonlyArray<Item> }
  try {
    value = JSON.parse(body)
  } catch {
    return [message(body)]
  }
  if (value?.object !== "response" && !Array.isArray(value?.output)) return [message(body)]
  const deltas = (value.output ?? []).flatMap((item) =>
    item.type === "message"
      ? (item.content ?? []).flatMap((part) =>
        (part.type === "output_text" || part.type === "refusal") && typeof part.text === "string"
          ? [message({ type: "response.output_text.delta", delta: part.text })]
          : []
      )
      : item.type === "reasoning"
      ? (item.summary ?? []).flatMap((part) =>
        typeof part.text === "string" ? [message({ type: "response.reasoning_summary_text.delta", delta: part.text })] : []
      )
      : []
  )
  const terminal = value.status === "incomplete"
    ? "response.incomplete"
    : value.status === "failed"
    ? "response.failed"
    : "response.completed"
  return [
    message({ type: "response.created", response: { id: value.id, model: value.model } }),
    ...deltas,
    message({ type: terminal, response: value })
  ]
}
