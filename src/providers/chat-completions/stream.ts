// The Chat Completions stream parser. Text from `delta.content`, reasoning from
// `delta.reasoning_content` (DeepSeek, vLLM) or `delta.reasoning` (OpenRouter, Ollama); usage from the last chunk
// that carries one (a separate `choices: []` chunk on OpenAI, the finish chunk on DeepSeek); the stream ends at
// `data: [DONE]`. In-band `{"error": …}` chunks after HTTP 200 become typed errors.
import type { FinishReason } from "../event.ts"
import { finishEvent } from "../event.ts"
import { fromInBand, type RequestContext } from "../http.ts"
import { cutShort, type Emit, notThisApi, parseData, type WireParser } from "../parser.ts"
import { quirksFor } from "./quirks.ts"
import { normaliseUsage } from "./usage.ts"
import type { ChatChunk, ChatDelta, ChatUsage, LlamaCppTimings } from "./wire.ts"

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

/**
 * The parser of one response. Keeps the last usage object seen (normalised once, at the end; never summed: Gemini
 * repeats cumulative usage on every chunk), the finish reason, and llama.cpp's timings.
 */
export const makeParser = (ctx: RequestContext, requestId: string | undefined, emit: Emit): WireParser => {
  let started = false
  /** Some text or reasoning reached the user: an error now is mid-stream. */
  let emitted = false
  let finishReason: string | undefined
  let usage: ChatUsage | undefined
  let timings: LlamaCppTimings | undefined
  const apart = quirksFor(ctx.entry).reasoningApart

  /** The calls begun, by their `index`, in the order they began. */
  const calls = new Map<number, { readonly id: string }>()

  const toolCalls = (fragments: NonNullable<ChatDelta["tool_calls"]>) => {
    fragments.forEach((fragment, position) => {
      const index = typeof fragment.index === "number" ? fragment.index : position
      if (!calls.has(index)) {
        const name = fragment.function?.name
        if (typeof name !== "string" || name === "") return
        // Servers that give no id (some local ones) get one, unique within the answer.
        const id = typeof fragment.id === "string" && fragment.id !== "" ? fragment.id : `call_${index}`
        calls.set(index, { id })
        emit.event({ _tag: "ToolCallStart", index, id, name, kind: "function" })
        emitted = true
      }
      const args = fragment.function?.arguments
      if (typeof args === "string" && args !== "") emit.event({ _tag: "ToolCallDelta", index, text: args })
    })
  }

  // [DONE] with no finish_reason before it: the server ended the answer without saying why ("other", no raw
  // reason), which is neither a normal stop nor a cut. Calls end, in order, before the Finish; an answer with
  // calls finishes with "tool-calls" whatever stop reason a server gave it (some say "stop").
  const finish = () => {
    for (const index of calls.keys()) emit.event({ _tag: "ToolCallEnd", index })
    const reason = finishReason === undefined ? "other" : mapFinishReason(finishReason)
    emit.event(
      finishEvent(
        calls.size > 0 && (reason === "stop" || reason === "other") ? "tool-calls" : reason,
        finishReason,
        usage !== undefined ? normaliseUsage(usage, timings, apart) : undefined
      )
    )
  }

  /** Kinds of content byok could not read, said once each (a Warning), never dropped in silence. */
  const warned = new Set<string>()
  const unreadable = (what: string) => {
    if (warned.has(what)) return
    warned.add(what)
    emit.event({ _tag: "Warning", text: `the answer had ${what}, which byok cannot show; that part of it is missing` })
  }

  /** Thinking text, as Mistral nests it: a string, or a list of `{type: "text", text}` parts. */
  const thinkingText = (value: unknown): string =>
    typeof value === "string"
      ? value
      : Array.isArray(value)
      ? value.map((p) => (typeof p === "string" ? p : typeof (p as { text?: unknown })?.text === "string" ? (p as { text: string }).text : "")).join("")
      : ""

  /** Mistral's content as a list of typed parts: text parts are the answer, thinking parts its reasoning. */
  const contentParts = (parts: ReadonlyArray<unknown>) => {
    for (const part of parts) {
      const p = part as { type?: unknown; text?: unknown; thinking?: unknown }
      if (typeof part === "string" || (p.type === "text" && typeof p.text === "string")) {
        const text = typeof part === "string" ? part : (p.text as string)
        if (text !== "") {
          emit.text(text)
          emitted = true
        }
      } else if (p.type === "thinking") {
        const text = thinkingText(p.thinking ?? p.text)
        if (text !== "") {
          emit.reasoning(text)
          emitted = true
        }
      } else {
        unreadable(`a content part of type "${typeof p.type === "string" ? p.type.slice(0, 40) : typeof part}"`)
      }
    }
  }

  const chunk = (c: ChatChunk) => {
    if (c.error !== undefined && c.error !== null || c.object === "error") {
      return emit.fail(fromInBand(ctx, c, emitted, requestId))
    }
    if (!started) {
      started = true
      emit.event({ _tag: "Start", requestId, model: c.model })
    }
    const choice = c.choices?.[0]
    const delta = choice?.delta ?? choice?.message
    if (delta) {
      const reasoning = delta.reasoning_content ?? delta.reasoning
      if (typeof reasoning === "string" && reasoning !== "") {
        emit.reasoning(reasoning)
        emitted = true
      }
      if (Array.isArray(delta.content)) {
        contentParts(delta.content)
      } else {
        const text = typeof delta.content === "string" && delta.content !== "" ? delta.content : delta.refusal
        if (typeof text === "string" && text !== "") {
          emit.text(text)
          emitted = true
        } else if (delta.content !== undefined && delta.content !== null && typeof delta.content !== "string") {
          unreadable(`a content value of type ${typeof delta.content}`)
        }
      }
    }
    if (Array.isArray(delta?.tool_calls)) toolCalls(delta.tool_calls)
    if (typeof choice?.finish_reason === "string") finishReason = choice.finish_reason
    if (c.timings !== undefined) timings = c.timings
    if (typeof c.usage === "object" && c.usage !== null) usage = c.usage
  }

  return {
    message: (event, raw) => {
      const data = raw.trim()
      if (data === "[DONE]") return finish()
      if (data === "") return
      const value = parseData(ctx, emit, data, emitted)
      if (value === undefined) return
      if (event === "error") return emit.fail(fromInBand(ctx, value, emitted, requestId))
      chunk(value as ChatChunk)
    },
    // The connection failed. If the server had already said why it stopped, only [DONE] was lost.
    broken: (cause) =>
      finishReason !== undefined ? finish() : emit.fail(cutShort(ctx, cause, emitted, requestId)),
    end: () => {
      // No [DONE]: accept the answer when the server said why it stopped (some proxies drop [DONE]).
      if (finishReason !== undefined) return finish()
      if (!started) return emit.fail(notThisApi(ctx, "Chat Completions", "an OpenAI-compatible"))
      // The server closed the stream itself (a cut connection is `broken`), without [DONE] or a finish_reason:
      // it ended the answer without saying why, which is not a cut.
      finish()
    }
  }
}
