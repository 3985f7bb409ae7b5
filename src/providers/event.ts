// The normalised event stream every wire format lowers to: text and reasoning deltas, then exactly one Finish
// carrying the stop reason and the usage split by token class. The renderer and the ledger read only this.

/** Input tokens split into classes that are priced differently. `total = uncached + cacheRead + cacheWrite`. */
export interface InputUsage {
  readonly total: number
  readonly uncached: number
  readonly cacheRead: number
  /** All cache writes, 5-minute and 1-hour. */
  readonly cacheWrite: number
  /** The part of `cacheWrite` written with a 1-hour TTL (Anthropic); the rest is 5-minute. */
  readonly cacheWrite1h: number
}

/** Output tokens; `reasoning` is part of `total`. */
export interface OutputUsage {
  readonly total: number
  readonly reasoning: number
}

export interface Usage {
  readonly input: InputUsage
  readonly output: OutputUsage
  /** The usage object as the server sent it, or null when it sent none. */
  readonly native: unknown
  /** Dollars reported by the server itself (OpenRouter `usage.cost`). */
  readonly reportedCost?: number
  /** Counted by byok, not the server: the answer was cut off before the server said, or it never says. */
  readonly estimated?: boolean
}

/**
 * Why the answer ended, normalised across the three APIs:
 * stop (natural end or stop sequence), length (output cap), content-filter (filter or refusal),
 * tool-calls, error (the server said so), other (anything unrecognised; the raw value is kept).
 */
export type FinishReason = "stop" | "length" | "content-filter" | "tool-calls" | "error" | "other"

export type LlmEvent =
  | { readonly _tag: "Start"; readonly requestId: string | undefined; readonly model: string | undefined }
  | { readonly _tag: "TextDelta"; readonly text: string }
  | { readonly _tag: "ReasoningDelta"; readonly text: string }
  /** Usage known before the end (Anthropic's message_start): what the ledger keeps if the answer is cut off. */
  | { readonly _tag: "Usage"; readonly usage: Usage }
  /** Something in the answer byok could not read (a content part of a kind it does not know): said, never dropped. */
  | { readonly _tag: "Warning"; readonly text: string }
  /**
   * What a reasoning block needs to be sent back, when it ends: Anthropic's signature or redacted_thinking data,
   * OpenAI's reasoning item id and encrypted content.
   */
  | {
    readonly _tag: "ReasoningEnd"
    readonly signature?: string | undefined
    readonly redacted?: string | undefined
    readonly itemId?: string | undefined
    readonly encrypted?: string | undefined
  }
  /**
   * A tool call begins: `index` tells its pieces apart when several stream at once (Chat's `index`, Responses'
   * `output_index`, Anthropic's content block index); `kind` is "function" for a declared tool, else the API's
   * own name for the item (a server or custom tool).
   */
  | { readonly _tag: "ToolCallStart"; readonly index: number; readonly id: string; readonly name: string; readonly kind: string }
  /** A piece of a call's arguments (JSON text, to be joined). */
  | { readonly _tag: "ToolCallDelta"; readonly index: number; readonly text: string }
  /** A call's arguments are complete. */
  | { readonly _tag: "ToolCallEnd"; readonly index: number }
  | {
    readonly _tag: "Finish"
    readonly reason: FinishReason
    /** The server's own word for it (`end_turn`, `max_output_tokens`, …). */
    readonly rawReason: string | undefined
    readonly usage: Usage
  }

export const emptyUsage: Usage = {
  input: { total: 0, uncached: 0, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0 },
  output: { total: 0, reasoning: 0 },
  native: null
}

/** The one Finish of an answer: why it ended, in byok's words and the server's, and the usage (none: zero). */
export const finishEvent = (reason: FinishReason, rawReason: string | undefined, usage: Usage | undefined): LlmEvent => ({
  _tag: "Finish",
  reason,
  rawReason,
  usage: usage ?? emptyUsage
})

/** No real count comes near this; capping keeps every sum of counts an exact (safe) integer. */
const MAX_COUNT = 1e15

const count = (n: unknown): number =>
  typeof n === "number" && Number.isFinite(n) && n > 0 ? Math.floor(Math.min(n, MAX_COUNT)) : 0

/**
 * Builds usage from counters that may be missing, negative or inconsistent (servers do send such): everything is
 * clamped to whole non-negative numbers, and the classes always add up to the total.
 * `inclusiveTotal` is the server's prompt count when it includes the cached parts (OpenAI style); when it is
 * undefined the total is the sum of the parts (Anthropic style).
 */
export const makeUsage = (parts: {
  readonly inclusiveTotal?: unknown
  readonly uncached?: unknown
  readonly cacheRead?: unknown
  readonly cacheWrite?: unknown
  readonly cacheWrite1h?: unknown
  readonly output?: unknown
  readonly reasoning?: unknown
  readonly native: unknown
  readonly reportedCost?: unknown
}): Usage => {
  const cacheRead = count(parts.cacheRead)
  const cacheWrite = count(parts.cacheWrite)
  const cached = cacheRead + cacheWrite
  const uncached = parts.inclusiveTotal !== undefined
    ? Math.max(0, count(parts.inclusiveTotal) - cached)
    : count(parts.uncached)
  const output = count(parts.output)
  return {
    input: {
      total: uncached + cached,
      uncached,
      cacheRead,
      cacheWrite,
      cacheWrite1h: Math.min(count(parts.cacheWrite1h), cacheWrite)
    },
    output: { total: output, reasoning: Math.min(count(parts.reasoning), output) },
    native: parts.native,
    ...(typeof parts.reportedCost === "number" && Number.isFinite(parts.reportedCost) && parts.reportedCost >= 0
      ? { reportedCost: parts.reportedCost }
      : {})
  }
}
