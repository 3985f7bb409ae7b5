// The OpenAI Responses stream parser: text from response.output_text.delta, reasoning from the summary and
// reasoning text deltas, and one terminal event: response.completed / .incomplete (with its reason) / .failed.
// The `error` event comes flat (the spec) or nested under `error` (real streams); both are read.
import type { FinishReason } from "../event.ts"
import { finishEvent } from "../event.ts"
import { fromInBand, type RequestContext } from "../http.ts"
import { cutShort, type Emit, notThisApi, parseData, type WireParser } from "../parser.ts"
import { message, type SseMessage } from "../sse.ts"
import { normaliseUsage } from "./usage.ts"
import type { ResponsesEvent, ResponsesItem, ResponsesObject } from "./wire.ts"

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

/**
 * Output items that ask the caller to act: a declared function, and the tools the Responses API defines itself
 * (custom tools, shell, apply_patch, MCP approval, tool search). Each is a tool call of its own kind; an answer
 * that holds one finishes with "tool-calls", never as an empty stop. Server-run tools (web and file search, image
 * generation, code interpreter, MCP calls) run on OpenAI's side and are not listed.
 */
const CALL_ITEMS = new Set([
  "function_call",
  "custom_tool_call",
  "local_shell_call",
  "shell_call",
  "apply_patch_call",
  "computer_call",
  "mcp_approval_request",
  "tool_search_call"
])

/** What a call item of a kind other than function_call says, as its arguments: the item without its bookkeeping. */
const itemArguments = (item: ResponsesItem): string => {
  if (item.type === "function_call") return item.arguments ?? ""
  if (item.type === "custom_tool_call") return item.input ?? ""
  const { type: _type, id: _id, call_id: _callId, status: _status, ...rest } = item as ResponsesItem & { status?: unknown }
  return JSON.stringify(rest)
}

export const makeParser = (ctx: RequestContext, requestId: string | undefined, emit: Emit): WireParser => {
  let started = false
  /** Calls begun, by output_index: whether their arguments came as deltas. */
  const calls = new Map<number, { deltas: boolean }>()
  let callCount = 0
  /**
   * An item's place: its output_index, or, from servers that send none (llama.cpp names items by id alone), a place
   * given to its item id (counted from 1,000,000, clear of any real index).
   */
  const places = new Map<string, number>()
  const placeOf = (outputIndex: unknown, itemId: unknown): number | undefined => {
    if (typeof outputIndex === "number") return outputIndex
    if (typeof itemId !== "string") return undefined
    let place = places.get(itemId)
    if (place === undefined) places.set(itemId, place = 1_000_000 + places.size)
    return place
  }

  const itemAdded = (index: number, item: ResponsesItem) => {
    if (item.type === undefined || !CALL_ITEMS.has(item.type)) return
    calls.set(index, { deltas: false })
    callCount++
    emitted = true
    emit.event({
      _tag: "ToolCallStart",
      index,
      // The tool's result goes back under call_id, not the item's id.
      id: item.call_id ?? item.id ?? `call_${index}`,
      name: item.name ?? item.type,
      kind: item.type === "function_call" ? "function" : item.type
    })
  }

  const itemDone = (index: number, item: ResponsesItem) => {
    if (item.type === "reasoning") {
      emit.event({ _tag: "ReasoningEnd", itemId: item.id, encrypted: item.encrypted_content ?? undefined })
      return
    }
    const call = calls.get(index)
    if (call === undefined) {
      // A call item whose `added` event never came (a whole response from fromJson): begun and ended here.
      if (item.type === undefined || !CALL_ITEMS.has(item.type)) return
      itemAdded(index, item)
      return itemDone(index, item)
    }
    calls.delete(index)
    const args = itemArguments(item)
    if (!call.deltas && args !== "") emit.event({ _tag: "ToolCallDelta", index, text: args })
    emit.event({ _tag: "ToolCallEnd", index })
  }

  const argumentsDelta = (index: number | undefined, text: unknown) => {
    const call = calls.get(index ?? -1)
    if (call === undefined || typeof text !== "string" || text === "") return
    call.deltas = true
    emit.event({ _tag: "ToolCallDelta", index: index!, text })
  }

  /** At the end: calls still open end, and an answer with calls finishes with "tool-calls". */
  const closeCalls = () => {
    for (const index of [...calls.keys()]) {
      calls.delete(index)
      emit.event({ _tag: "ToolCallEnd", index })
    }
  }
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
        case "response.output_item.added":
        case "response.output_item.done": {
          const place = placeOf(event.output_index, event.item?.id)
          if (event.item === undefined || place === undefined) return
          return (event.type ?? name) === "response.output_item.added" ? itemAdded(place, event.item) : itemDone(place, event.item)
        }
        case "response.function_call_arguments.delta":
        case "response.custom_tool_call_input.delta":
          return argumentsDelta(placeOf(event.output_index, event.item_id), event.delta)
        case "response.completed": {
          closeCalls()
          const toolCall = callCount > 0 || (event.response?.output?.some((o) => o.type !== undefined && CALL_ITEMS.has(o.type)) ?? false)
          return emit.event(finish(event.response, toolCall ? "tool-calls" : "stop", "completed"))
        }
        case "response.incomplete": {
          closeCalls()
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
  type Item = ResponsesItem & { content?: ReadonlyArray<Part>; summary?: ReadonlyArray<Part> }
  let value: Omit<ResponsesObject, "output"> & { object?: string; output?: ReadonlyArray<Item> }
  try {
    value = JSON.parse(body)
  } catch {
    return [message(body)]
  }
  if (value?.object !== "response" && !Array.isArray(value?.output)) return [message(body)]
  const deltas = (value.output ?? []).flatMap((item, index) =>
    item.type !== undefined && CALL_ITEMS.has(item.type)
      ? [message({ type: "response.output_item.done", output_index: index, item })]
      : item.type === "message"
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
