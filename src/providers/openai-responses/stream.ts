// The OpenAI Responses stream parser: text from response.output_text.delta, reasoning from the summary and
// reasoning text deltas, and one terminal event: response.completed / .incomplete (with its reason) / .failed.
// The `error` event comes flat (the spec) or nested under `error` (real streams); both are read.
import type { FinishReason, LlmEvent } from "../event.ts"
import { emptyUsage } from "../event.ts"
import { fromInBand, type RequestContext } from "../http.ts"
import { cutShort, notThisApi, parseData, type WireInput, type WireOutput, type WireParser } from "../parser.ts"
import { message, type SseMessage } from "../sse.ts"
import { normaliseUsage } from "./usage.ts"
import type { ResponsesEvent, ResponsesObject } from "./wire.ts"

export interface State {
  readonly started: boolean
  readonly emitted: boolean
}

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

const finish = (response: ResponsesObject | undefined, reason: FinishReason, rawReason: string | undefined) => ({
  _tag: "Finish" as const,
  reason,
  rawReason,
  usage: response?.usage ? normaliseUsage(response.usage) : emptyUsage
})

export const makeParser = (ctx: RequestContext, requestId: string | undefined): WireParser<State> => {
  const failWith = (state: State, payload: unknown): readonly [State, Array<WireOutput>] => [
    state,
    [{ _tag: "Fail", error: fromInBand(ctx, payload, state.emitted, requestId) }]
  ]
  const text = (state: State, tag: "TextDelta" | "ReasoningDelta", delta: unknown) =>
    typeof delta === "string" && delta !== ""
      ? [{ ...state, emitted: true }, [{ _tag: tag, text: delta } as LlmEvent]] as const
      : [state, []] as const

  return {
    initial: () => ({ started: false, emitted: false }),
    step: (state, input: WireInput) => {
      if (input._tag === "Broken") return [state, [cutShort(ctx, input.cause, state.emitted, requestId)]]
      const parsed = parseData(ctx, input.data, state.emitted)
      if ("fail" in parsed) return [state, [parsed.fail]]
      const event = parsed.value as ResponsesEvent
      switch (event.type ?? input.event) {
        case "response.created":
        case "response.in_progress":
          return state.started
            ? [state, []]
            : [{ ...state, started: true }, [{ _tag: "Start", requestId, model: event.response?.model }]]
        case "response.output_text.delta":
        case "response.refusal.delta":
          return text(state, "TextDelta", event.delta)
        case "response.reasoning_summary_text.delta":
        case "response.reasoning_text.delta":
          return text(state, "ReasoningDelta", event.delta)
        case "response.completed": {
          const toolCall = event.response?.output?.some((o) => o.type === "function_call") ?? false
          return [state, [finish(event.response, toolCall ? "tool-calls" : "stop", "completed")]]
        }
        case "response.incomplete": {
          const raw = event.response?.incomplete_details?.reason
          return [state, [finish(event.response, mapIncompleteReason(raw), raw)]]
        }
        case "response.failed":
          return failWith(state, { error: event.response?.error ?? { message: "the response failed" } })
        case "error":
          // Flat: {type, code, message}; nested: {type, error: {type, code, message}}.
          return failWith(state, event.error !== undefined ? event : { error: { code: event.code, message: event.message } })
        default:
          return [state, []]
      }
    },
    onHalt: (state) =>
      state.started
        ? [cutShort(ctx, "the stream ended before response.completed", state.emitted, requestId)]
        : [notThisApi(ctx, "Responses API", "an OpenAI")]
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
