// The agent loop: an answer that ends in tool calls has them run (by the level's rules: tools/registry.ts) and their
// results sent back, until the model answers without calling a tool, the user stops it, the turn limit is reached,
// or the model repeats itself. Each request is one turn of the conversation (one ledger row, saved with every
// part); parallel calls that all only read run at once. What is shown is the caller's: this module returns values.
import { Effect } from "effect"
import type { ImagePart, ToolCallPart, ToolResultPart, UserPart } from "../providers/conversation.ts"
import { type Interface as TelemetryInterface, Telemetry } from "../telemetry/telemetry.ts"
import { type Approve, type CallOutcome, runCall } from "../tools/registry.ts"
import type { BuiltinTool, ToolContext } from "../tools/tool.ts"
import type { Conversation, SendOptions, TurnResult } from "./conversation.ts"

export interface AgentOptions<E, R> {
  /** The tools offered; a function is asked again before each request (an MCP server's list can change). */
  readonly tools: ReadonlyArray<BuiltinTool> | (() => ReadonlyArray<BuiltinTool>)
  readonly context: ToolContext
  /** Redacts what a tool gives back before it goes to the model or the screen. */
  readonly redact: (text: string) => string
  readonly maxTurns: number
  readonly skipPermissions?: boolean
  /** The options of each request; `tools` is set here. */
  readonly send: (step: number) => Omit<SendOptions<E, R>, "tools">
  /** Told of each request's answer as it ends, before its calls run (what the model said between calls, in order). */
  readonly onTurn?: ((turn: TurnResult) => Effect.Effect<void, never, R>) | undefined
  /** Told when a call starts running (the chat shows it with its time); what it returns is run when it ends. */
  readonly onRunning?: ((name: string, subject: string) => Effect.Effect<Effect.Effect<void>>) | undefined
  /** Told of each call as it ends, for the screen. */
  readonly onCall?: ((outcome: CallOutcome) => Effect.Effect<void, never, R>) | undefined
  /** Asks the user about a call above the level (the chat); without it such a call is refused. */
  readonly approve?: Approve | undefined
}

export type AgentEnd =
  /** The model answered without calling a tool. */
  | "answered"
  /** A request failed or was stopped: the last turn says how. */
  | "failed"
  /** The turn limit was reached. */
  | "max-turns"
  /** The model called the same tool with the same arguments three times in a row, or a missing tool three times. */
  | "repeating"
  /** The user stopped a running tool (Ctrl-C): the loop ends there; the calls' results were not sent. */
  | "interrupted"

export interface AgentResult {
  /** Every request of the loop, in order. */
  readonly turns: ReadonlyArray<TurnResult>
  readonly calls: ReadonlyArray<CallOutcome>
  readonly end: AgentEnd
  /** Why the loop ended, in words, when it did not end with an answer. */
  readonly why: string | undefined
  /** Interrupted: the call that was running when the user stopped the tools. */
  readonly stopped?: ToolCallPart | undefined
}

/** How many times in a row the same call (or a call of a missing tool) may come before the loop stops. */
const REPEATS = 3

/** A call that ran (or was refused), told to telemetry. */
const told = (telemetry: TelemetryInterface, o: CallOutcome, startedAt: number) =>
  telemetry.on
    ? telemetry.tool({
      name: o.call.name,
      callId: o.call.id,
      startedAt,
      durationMs: Date.now() - startedAt,
      outcome: o.refused ? "refused" : o.isError === true ? "error" : "ok",
      content: () => ({ arguments: o.call.arguments, result: o.output })
    })
    : Effect.void

export const runAgent = <E, R>(conversation: Conversation, prompt: string, options: AgentOptions<E, R>): Effect.Effect<AgentResult, never, R> =>
  // Only an answer's stream and the tools stop at Ctrl-C (each makes itself interruptible): the loop's own
  // bookkeeping (what a stopped call printed, kept for the next request) always runs.
  Effect.uninterruptible(Effect.gen(function*() {
    const turns: Array<TurnResult> = []
    const calls: Array<CallOutcome> = []
    const telemetry = yield* Telemetry
    let input: string | ReadonlyArray<UserPart> = prompt
    let last = ""
    let repeats = 0
    let missing = 0
    for (let step = 1;; step++) {
      const tools = typeof options.tools === "function" ? options.tools() : options.tools
      const turn = yield* conversation.send(input, { ...options.send(step), tools: tools.map((t) => t.definition) })
      turns.push(turn)
      if (turn.toolCalls.length > 0 && turn.failure === undefined) yield* (options.onTurn?.(turn) ?? Effect.void)
      if (turn.failure !== undefined) return { turns, calls, end: "failed", why: undefined } satisfies AgentResult
      if (turn.toolCalls.length === 0) return { turns, calls, end: "answered", why: undefined } satisfies AgentResult
      if (step >= options.maxTurns) {
        return {
          turns,
          calls,
          end: "max-turns",
          why: `the model was still calling tools after ${options.maxTurns} requests (--max-turns ${options.maxTurns}); its last calls were not run`
        } satisfies AgentResult
      }
      // Calls that only read may run at once; any other, one after another, in the order asked.
      const readOnly = turn.toolCalls.every((c) => tools.find((t) => t.definition.name === c.name)?.readOnly === true)
      // Tools run interruptibly (Ctrl-C stops a command and its process group), even where the caller is not.
      const done: Array<CallOutcome> = []
      const stopped = new Map<string, string>()
      const ran = yield* Effect.exit(Effect.interruptible(Effect.forEach(
        turn.toolCalls,
        (call) =>
          Effect.tap(
            Effect.flatMap(Effect.sync(Date.now), (startedAt) =>
              Effect.tap(
                runCall(call, tools, { ...options.context, onStopped: (partial) => stopped.set(call.id, partial) }, options.redact, options.skipPermissions, options.approve, options.onRunning),
                (o) => told(telemetry, o, startedAt)
              )),
            (o) => Effect.andThen(Effect.sync(() => done.push(o)), options.onCall?.(o) ?? Effect.void)
          ),
        { concurrency: readOnly ? 4 : 1 }
      )))
      if (ran._tag === "Failure") {
        // Stopped by the user: each call's fate is kept for the next request (this run's, or -c's), so the model
        // hears which ran, which was stopped with what it had printed, and which never started.
        calls.push(...done)
        const results: Array<ToolResultPart> = turn.toolCalls.map((call) => {
          const finished = done.find((o) => o.call.id === call.id)
          const partial = stopped.get(call.id)
          return {
            type: "tool-result",
            callId: call.id,
            name: call.name,
            output: finished !== undefined
              ? finished.output
              : partial !== undefined
              ? `The user stopped this call (Ctrl-C) while it ran. Its output so far:\n${options.redact(partial)}`
              : "Not run: the user stopped the work (Ctrl-C) before this call started.",
            ...(finished === undefined || finished.isError ? { isError: true } : {})
          }
        })
        yield* conversation.keepResults(results)
        return {
          turns,
          calls,
          end: "interrupted",
          why: "stopped while a tool ran",
          stopped: turn.toolCalls.find((c) => stopped.has(c.id)) ?? turn.toolCalls.find((c) => done.every((o) => o.call.id !== c.id))
        } satisfies AgentResult
      }
      const outcomes = ran.value
      calls.push(...outcomes)
      // The same call again and again, or tools that do not exist: the model is told, and stopped on the third.
      const key = turn.toolCalls.map((c) => `${c.name}\u0000${c.arguments}`).join("\u0001")
      repeats = key === last ? repeats + 1 : 1
      last = key
      missing = outcomes.every((o) => o.tool === undefined) ? missing + 1 : 0
      if (repeats >= REPEATS || missing >= REPEATS) {
        return {
          turns,
          calls,
          end: "repeating",
          why: repeats >= REPEATS
            ? `the model called ${turn.toolCalls[0]!.name} with the same arguments ${REPEATS} times in a row; stopped`
            : `the model called tools that do not exist ${REPEATS} times in a row; stopped`
        } satisfies AgentResult
      }
      // Images a tool gave back go after the results, where the model takes images; else the model is told.
      const images: ReadonlyArray<ImagePart> = outcomes.flatMap((o) => o.images ?? [])
      const refused: string | undefined = images.length > 0 ? conversation.imagesRefused(images) : undefined
      const results: Array<ToolResultPart> = outcomes.map((o) => ({
        type: "tool-result",
        callId: o.call.id,
        name: o.call.name,
        output: (repeats === REPEATS - 1
          ? `${o.output}\n[You called this with the same arguments twice in a row; a third time stops the work. Do something else.]`
          : o.output) + (refused !== undefined && (o.images?.length ?? 0) > 0 ? `\n[Its images are not attached: ${refused}.]` : ""),
        ...(o.isError ? { isError: true } : {})
      }))
      input = refused === undefined ? [...results, ...images] : results
    }
  }))
