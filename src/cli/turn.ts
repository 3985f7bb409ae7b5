// One model call as the commands run it: stream the answer through a renderer while observing it (text, usage,
// time to first token, stop reason), then record it in the ledger whatever happened: answered, failed, or
// interrupted with the usage known so far. A ledger that cannot be written costs one warning, never the answer.
import { Cause, Clock, Effect, Exit, Stream } from "effect"
import type { ModelEntry } from "../config/schema.ts"
import { priceFor, type PriceSource } from "../ledger/cost.ts"
import { CostLedger, type LedgerError } from "../ledger/ledger.ts"
import { buildRow } from "../ledger/record.ts"
import type { LedgerRow } from "../ledger/schema.ts"
import type { PriceOverride } from "../config/schema.ts"
import type { LlmRequest } from "../providers/conversation.ts"
import type { ProviderError } from "../providers/errors.ts"
import type { LlmEvent, Usage } from "../providers/event.ts"
import { Provider } from "../providers/provider.ts"
import { isStdoutClosed } from "./exit.ts"

export type FinishEvent = Extract<LlmEvent, { _tag: "Finish" }>

/** What was seen of one call, filled in as its events pass. */
export interface Observation {
  readonly startedAt: number
  text: string
  usage: Usage | undefined
  finish: FinishEvent | undefined
  requestId: string | undefined
  firstTokenAt: number | undefined
}

export interface TurnResult {
  readonly observation: Observation
  readonly exit: Exit.Exit<void, unknown>
  readonly row: LedgerRow
  readonly price: PriceSource
  readonly durationMs: number
}

/** Passes events through unchanged, a chunk at a time, recording what they say. */
const observe = <E, R>(events: Stream.Stream<LlmEvent, E, R>, obs: Observation, now: () => number) =>
  events.pipe(
    Stream.mapArray((batch) => {
      for (const event of batch) {
        switch (event._tag) {
          case "TextDelta":
            obs.text += event.text
            obs.firstTokenAt ??= now()
            break
          case "ReasoningDelta":
            obs.firstTokenAt ??= now()
            break
          case "Usage":
            obs.usage = event.usage
            break
          case "Finish":
            obs.finish = event
            obs.usage = event.usage
            break
          case "Start":
            obs.requestId = event.requestId
            break
        }
      }
      return batch
    })
  )

/** The outcome recorded in the ledger: ok, interrupted, or the failure's reason tag. */
export const outcomeOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  if (Cause.hasInterruptsOnly(exit.cause)) return "interrupted"
  const failure = exit.cause.reasons.find(Cause.isFailReason)?.error as ProviderError | { _tag?: string } | undefined
  // The reader of stdout went away: the answer was stopped, as by Ctrl-C.
  if (isStdoutClosed(failure)) return "interrupted"
  if (failure !== undefined && "reason" in failure && failure._tag === "ProviderError") return failure.reason._tag
  return failure?._tag ?? "defect"
}

/**
 * Runs one request through `render` (which consumes the observed events) and records it. The result is handed to
 * `after` even when the request failed or was interrupted; the request's own failure is then re-raised.
 */
export const runTurn = <E, R, R2>(options: {
  readonly request: LlmRequest
  readonly priceOverride: PriceOverride | undefined
  readonly render: (events: Stream.Stream<LlmEvent, ProviderError>) => Effect.Effect<void, E, R>
  /** The ledger refused the row (locked, read-only, corrupt): the caller warns, or keeps the row to retry. */
  readonly onLedgerError: (error: LedgerError, row: LedgerRow) => Effect.Effect<void, never, R2>
  readonly after: (result: TurnResult) => Effect.Effect<void, never, R2>
}) =>
  Effect.gen(function*() {
    const provider = yield* Provider
    const ledger = yield* CostLedger
    const entry: ModelEntry = options.request.model
    const price = priceFor(entry, options.priceOverride)
    const obs: Observation = {
      startedAt: yield* Clock.currentTimeMillis,
      text: "",
      usage: undefined,
      finish: undefined,
      requestId: undefined,
      firstTokenAt: undefined
    }
    const finalize = (exit: Exit.Exit<void, unknown>) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const row = buildRow({
          entry,
          conversationId: options.request.conversation.id,
          startedAt: obs.startedAt,
          durationMs: now - obs.startedAt,
          ttftMs: obs.firstTokenAt !== undefined ? obs.firstTokenAt - obs.startedAt : undefined,
          usage: obs.usage,
          outcome: outcomeOf(exit),
          stopReason: obs.finish?.rawReason ?? obs.finish?.reason,
          requestId: obs.requestId,
          price
        })
        yield* ledger.record(row).pipe(Effect.catch((error) => options.onLedgerError(error, row)))
        yield* options.after({ observation: obs, exit, row, price, durationMs: now - obs.startedAt })
      })
    const clock = yield* Clock.Clock
    return yield* options.render(observe(provider.stream(options.request), obs, () => clock.currentTimeMillisUnsafe())).pipe(
      Effect.onExit((exit) => finalize(exit))
    )
  })
