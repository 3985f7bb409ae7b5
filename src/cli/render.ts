// LlmEvent → terminal text or JSON. The only module that writes model output to stdout: the answer's text deltas
// as they arrive (text), one result object (json), or one JSON line per event and a result line (stream-json).
// The JSON shapes follow droid's and Claude Code's `-o json` where they have the field (type, subtype, is_error,
// duration_ms, num_turns, result, session_id, total_cost_usd, usage), so scripts written for them keep working.
import type { ContextUse } from "../conversation/conversation.ts"
import type { WindowSource } from "../ledger/windows.ts"
import { count } from "../lib/text.ts"
import { Effect, Stdio, Stream } from "effect"
import type { ModelEntry } from "../config/schema.ts"
import type { FinishEvent, TurnResult } from "../conversation/conversation.ts"
import type { PriceSource } from "../ledger/cost.ts"
import type { LedgerRow } from "../ledger/schema.ts"
import { controlStripper } from "../lib/controls.ts"
import type { AgentResult } from "../conversation/agent.ts"
import type { ToolCallPart } from "../providers/conversation.ts"
import type { LlmEvent } from "../providers/event.ts"

export type OutputFormat = "text" | "json" | "stream-json"

const write = (chunks: Stream.Stream<string, never>) =>
  Effect.flatMap(Stdio.Stdio, (stdio) => Stream.run(chunks, stdio.stdout({ endOnDone: false })))

/**
 * The answer's text as it arrives, one string per network chunk (one write, not one per delta), ending with a
 * newline when the answer does not. `onFirst` runs before the first text (it stops the spinner). For a terminal
 * (`terminal`), control sequences and characters other than newline and tab are removed (lib/controls.ts): model
 * output never drives the terminal. Otherwise the model's text is passed on unchanged.
 */
export const answerText = <E, R, R2>(
  events: Stream.Stream<LlmEvent, E, R>,
  onFirst: Effect.Effect<void, never, R2>,
  terminal = false
): Stream.Stream<string, E, R | R2> => {
  let last = ""
  const strip = terminal ? controlStripper() : undefined
  return events.pipe(
    Stream.mapArray((batch) => {
      let out = ""
      for (const event of batch) if (event._tag === "TextDelta") out += event.text
      return [strip !== undefined ? strip.push(out) : out]
    }),
    Stream.filter((s) => s !== ""),
    Stream.onFirst(() => onFirst),
    Stream.map((s) => (last = s)),
    Stream.concat(Stream.suspend(() => (last !== "" && !last.endsWith("\n") ? Stream.succeed("\n") : Stream.empty)))
  )
}

/** Streams the answer's text to stdout (`terminal`: stdout is one, and gets no control sequence from the model). */
export const streamAnswer = <E, R, R2>(
  events: Stream.Stream<LlmEvent, E, R>,
  onFirst: Effect.Effect<void, never, R2>,
  terminal = false
) =>
  Effect.flatMap(Stdio.Stdio, (stdio) =>
    Stream.run(answerText(events, onFirst, terminal), stdio.stdout({ endOnDone: false })).pipe(Effect.ensuring(onFirst)))

/** One JSON line per event (stream-json), after an init line naming the session and model. */
export const streamJsonLines = <E, R>(events: Stream.Stream<LlmEvent, E, R>, init: Record<string, unknown> | undefined) =>
  Effect.gen(function*() {
    const stdio = yield* Stdio.Stdio
    const lines = Stream.concat(
      init !== undefined ? Stream.succeed(`${JSON.stringify(init)}\n`) : Stream.empty,
      events.pipe(Stream.mapArray((batch) => [batch.map((e) => `${JSON.stringify(eventJson(e))}\n`).join("")]))
    )
    yield* Stream.run(lines, stdio.stdout({ endOnDone: false }))
  })

const usageJson = (row: LedgerRow) => ({
  ...(row.estimated ? { estimated: true } : {}),
  input_tokens: row.inputUncached,
  cache_read_input_tokens: row.cacheRead,
  cache_creation_input_tokens: row.cacheWrite5m + row.cacheWrite1h,
  cache_creation: { ephemeral_5m_input_tokens: row.cacheWrite5m, ephemeral_1h_input_tokens: row.cacheWrite1h },
  total_input_tokens: row.inputUncached + row.cacheRead + row.cacheWrite5m + row.cacheWrite1h,
  output_tokens: row.outputTokens,
  reasoning_tokens: row.reasoningTokens
})

const eventJson = (e: LlmEvent): Record<string, unknown> => {
  switch (e._tag) {
    case "Start":
      return { type: "start", request_id: e.requestId ?? null, model: e.model ?? null }
    case "TextDelta":
      return { type: "text_delta", text: e.text }
    case "ReasoningDelta":
      return { type: "reasoning_delta", text: e.text }
    case "Usage":
      return { type: "usage", input_tokens: e.usage.input.uncached, cache_read_input_tokens: e.usage.input.cacheRead }
    case "Warning":
      return { type: "warning", message: e.text }
    case "ReasoningEnd":
      return { type: "reasoning_end", signed: e.signature !== undefined || e.redacted !== undefined || e.encrypted !== undefined }
    case "ToolCallStart":
      return { type: "tool_call_start", index: e.index, id: e.id, name: e.name, kind: e.kind }
    case "ToolCallDelta":
      return { type: "tool_call_delta", index: e.index, arguments: e.text }
    case "ToolCallEnd":
      return { type: "tool_call_end", index: e.index }
    case "Finish":
      return { type: "finish", stop_reason: e.reason, raw_stop_reason: e.rawReason ?? null }
  }
}

export const initJson = (sessionId: string, entry: ModelEntry) => ({
  type: "system",
  subtype: "init",
  session_id: sessionId,
  model: entry.displayName,
  model_id: entry.model,
  provider: entry.provider
})

const costJson = (row: LedgerRow, price: PriceSource) => ({
  priced: row.cost !== undefined,
  ...(row.estimated ? { estimated: true } : {}),
  source: row.priceSource,
  local: price.kind === "local",
  input_usd: usdJson(row.cost?.input ?? null),
  cache_read_usd: usdJson(row.cost?.cacheRead ?? null),
  cache_write_usd: usdJson(row.cost?.cacheWrite ?? null),
  output_usd: usdJson(row.cost?.output ?? null),
  savings_usd: usdJson(row.savings ?? null)
})

/**
 * A call the model asked for, as scripts get it: its id, name and arguments (the JSON the model wrote, parsed; the
 * text itself when it is not valid JSON), and its kind when it is not a declared function.
 */
export const toolCallJson = (call: ToolCallPart) => {
  let args: unknown = call.arguments
  try {
    args = JSON.parse(call.arguments === "" ? "{}" : call.arguments)
  } catch {
    // kept as the text the model wrote
  }
  return {
    id: call.id,
    name: call.name,
    arguments: args,
    ...(call.kind !== "function" ? { kind: call.kind } : {}),
    ...(call.recovered === true ? { recovered: true } : {})
  }
}

/** The result object of `-o json` and the last line of `-o stream-json`. */
export const resultJson = (
  turn: TurnResult,
  error: { readonly type: string; readonly message: string; readonly code: number } | undefined,
  /** The conversation's turns (user messages) so far, this one included. */
  numTurns = 1
) => {
  const entry = turn.entry
  const interrupted = turn.outcome === "interrupted"
  return {
    type: "result",
    subtype: turn.failure === undefined ? "success" : interrupted ? "interrupted" : "error",
    is_error: turn.failure !== undefined,
    duration_ms: turn.durationMs,
    num_turns: numTurns,
    result: turn.text,
    session_id: turn.row.conversationId,
    model: entry.displayName,
    model_id: entry.model,
    provider: entry.provider,
    request_id: turn.requestId ?? null,
    stop_reason: turn.finish?.reason ?? null,
    tool_calls: turn.toolCalls.map(toolCallJson),
    usage: usageJson(turn.row),
    total_cost_usd: usdJson(turn.row.cost?.total ?? null),
    cost: costJson(turn.row, turn.price),
    exit_code: error?.code ?? (interrupted ? 130 : 0),
    ...(error !== undefined ? { error: { type: error.type, message: error.message } } : {})
  }
}

/** The result object of a failure that came before any turn (no prompt, an unknown model, a refused flag). */
export const failureResultJson = (code: number, type: string, message: string) => ({
  type: "result",
  subtype: "error",
  is_error: true,
  duration_ms: 0,
  num_turns: 0,
  result: "",
  session_id: null,
  exit_code: code,
  error: { type, message }
})

/**
 * The result object of an agent loop (exec --auto): droid's fields, with the final answer as `result`, every
 * request counted in `num_requests` and the usage and cost summed over them, and the tool calls made.
 */
/** The subtype of a loop that ended without an answer, as Claude Code names its own (error_max_turns). */
const LOOP_SUBTYPES: Readonly<Record<string, string>> = {
  "max-turns": "error_max_turns",
  repeating: "error_repeating",
  permission: "error_permission"
}

export const agentResultJson = (
  result: AgentResult,
  error: { readonly type: string; readonly message: string; readonly code: number } | undefined,
  numTurns: number
) => {
  const final = result.turns.at(-1)!
  const base = resultJson(final, error, numTurns)
  // The loop's own failures are failures too: a refused call the model gave up at, --max-turns, a repeated call.
  const subtype = error === undefined || base.subtype !== "success" ? base.subtype : LOOP_SUBTYPES[error.type] ?? "error"

  const rows = result.turns.map((t) => t.row)
  const sum = (f: (row: LedgerRow) => number) => rows.reduce((n, row) => n + f(row), 0)
  const priced = rows.every((row) => row.cost !== undefined)
  const input = sum((r) => r.inputUncached)
  const cacheRead = sum((r) => r.cacheRead)
  const write5m = sum((r) => r.cacheWrite5m)
  const write1h = sum((r) => r.cacheWrite1h)
  return {
    ...base,
    subtype,
    is_error: base.is_error || error !== undefined,
    duration_ms: result.turns.reduce((n, t) => n + t.durationMs, 0),
    num_requests: result.turns.length,
    stop_reason: result.end === "answered" ? final.finish?.reason ?? null : result.end,
    tool_calls: [
      ...result.calls.map((o) => ({
        ...toolCallJson(o.call),
        is_error: o.isError,
        ...(o.refused ? { refused: true } : {}),
        summary: o.summary
      })),
      // --max-turns: the calls the model asked for last, which were not run
      ...(result.end === "max-turns" ? final.toolCalls.map((c) => ({ ...toolCallJson(c), run: false })) : [])
    ],
    usage: {
      ...(rows.some((r) => r.estimated) ? { estimated: true } : {}),
      input_tokens: input,
      cache_read_input_tokens: cacheRead,
      cache_creation_input_tokens: write5m + write1h,
      cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
      total_input_tokens: input + cacheRead + write5m + write1h,
      output_tokens: sum((r) => r.outputTokens),
      reasoning_tokens: sum((r) => r.reasoningTokens)
    },
    total_cost_usd: priced ? usdJson(sum((r) => r.cost!.total)) : null
  }
}

export const printJson = (value: unknown) => write(Stream.succeed(`${JSON.stringify(value)}\n`))

/**
 * Dollars as people read them: cents from a dollar up ($12.35); below, two significant digits, so that a small
 * answer's cost is its figure and not "<$0.01" ($0.42, $0.017, $0.0016, $0.00013).
 */
export const formatUsd = (n: number): string => {
  const a = Math.abs(n)
  const sign = n < 0 ? "-" : ""
  if (a === 0 || !Number.isFinite(a)) return "$0.00"
  if (a >= 1) return `${sign}$${a.toFixed(2)}`
  const decimals = Math.min(12, Math.max(2, 1 - Math.floor(Math.log10(a))))
  const fixed = a.toFixed(decimals)
  return `${sign}$${Number(fixed) >= 1 ? "1.00" : fixed}`
}

/** Dollars for JSON: exact to 10 decimal places, without float noise (0.00012629999999999998 → 0.0001263). */
export function usdJson(n: number): number
export function usdJson(n: number | null): number | null
export function usdJson(n: number | null): number | null {
  return n === null ? null : Math.round(n * 1e10) / 1e10
}

/** Where a window figure came from, in words. */
export const WINDOW_SOURCES: Readonly<Record<WindowSource, string>> = {
  config: "the entry's contextWindow",
  table: "byok's table of models",
  server: "what the server serves",
  error: "what the server said when a request did not fit",
  default: "byok's default, as nothing says it (set contextWindow)"
}

/** How full the next request is: `ctx 61%`. */
export const contextLine = (use: ContextUse): string => `ctx ${Math.round((use.used / use.window.tokens) * 100)}%`

/**
 * The line after a chat answer: tokens in (and the cached share) and out, what it cost (or local, or unpriced),
 * the time to the first token and in all.
 */
export const turnLine = (turn: TurnResult): string => {
  const row = turn.row
  const input = turn.usage?.input.total ?? 0
  const cached = input > 0 && row.cacheRead > 0 ? ` (${Math.round((row.cacheRead / input) * 100)}% cached)` : ""
  const cost = turn.price.kind === "local"
    ? "local"
    : row.cost === undefined
    ? "unpriced"
    : formatUsd(row.cost.total)
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const approx = row.estimated ? "~" : ""
  return [
    `${approx}${input.toLocaleString("en-US")} in${cached}`,
    `${approx}${row.outputTokens.toLocaleString("en-US")} out`,
    row.estimated && cost !== "local" ? `~${cost}` : cost,
    ...(turn.ttftMs !== undefined ? [`first token ${seconds(turn.ttftMs)}`] : []),
    seconds(turn.durationMs)
  ].join(" · ")
}

/**
 * The line after an answer the model reached through tool calls: the whole loop's tokens, cost and time, over its
 * requests (the ledger has each of them).
 */
export const loopLine = (turns: ReadonlyArray<TurnResult>): string => {
  if (turns.length === 1) return turnLine(turns[0]!)
  const rows = turns.map((t) => t.row)
  const input = turns.reduce((n, t) => n + (t.usage?.input.total ?? 0), 0)
  const output = rows.reduce((n, r) => n + r.outputTokens, 0)
  const estimated = rows.some((r) => r.estimated) ? "~" : ""
  const cost = turns.every((t) => t.price.kind === "local")
    ? "local"
    : rows.some((r) => r.cost === undefined)
    ? "unpriced"
    : `${estimated}${formatUsd(rows.reduce((n, r) => n + r.cost!.total, 0))}`
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  return [
    `${estimated}${input.toLocaleString("en-US")} in`,
    `${estimated}${output.toLocaleString("en-US")} out`,
    cost,
    count(turns.length, "request"),
    seconds(turns.reduce((n, t) => n + t.durationMs, 0))
  ].join(" · ")
}

/** A time as people read it everywhere in byok: local, ISO order, to the minute (`2026-12-01 22:03`). */
export const isoMinute = (ts: number): string => {
  const d = new Date(ts)
  const two = (n: number) => String(n).padStart(2, "0")
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`
}

/** Text for stdout (tables, lists), with a final newline. */
export const printLine = (text: string) => write(Stream.succeed(`${text}\n`))

/** The entry's output-cap field as its file spells it: `max_tokens` (config.json) or `maxOutputTokens`. */
const maxTokensField = (entry: ModelEntry) => (entry.source.path.startsWith("customModels") ? "maxOutputTokens" : "max_tokens")

/**
 * A line when the answer did not end normally; undefined when it did. `raise` is how this command raises the cap
 * for one answer (exec: --max-tokens; the chat: /max-tokens).
 */
export const finishNote = (
  finish: FinishEvent | undefined,
  entry: ModelEntry,
  maxTokens: number,
  raise = "--max-tokens",
  /** Where the calls the model asked for were shown, if anywhere. */
  callsShown?: string
) => {
  if (finish === undefined) return undefined
  switch (finish.reason) {
    case "length":
      return `The answer was cut short at the output limit (${maxTokens} tokens). ` +
        `Raise it with ${raise}, or ${maxTokensField(entry)} of "${entry.displayName}" in ${entry.source.file}.`
    case "content-filter":
      return `The provider stopped the answer (content filter or refusal${finish.rawReason ? `: ${finish.rawReason}` : ""}).`
    case "error":
      return "The provider ended the answer with an error; it may be incomplete."
    case "tool-calls":
      return `The model asked to call a tool; byok ran none of them${callsShown !== undefined ? ` (${callsShown})` : ""}.`
    case "other":
      return finish.rawReason === undefined
        ? "The server ended the answer without saying why (no finish reason); it may be incomplete."
        : `The answer ended for a reason byok does not know: "${finish.rawReason}".`
    case "stop":
      return undefined
  }
}
