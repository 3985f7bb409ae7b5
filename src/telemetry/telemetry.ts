// What the conversation and the agent loop tell telemetry: a model request once it ended (from its ledger row) and
// a tool call once it ran. Off, this is a no-op value, the default: nothing of OpenTelemetry loads unless an
// endpoint is set (telemetry/otlp.ts, started by cli/services.ts around a command).
import { type Cause, Context, Effect } from "effect"
import type { LedgerRow } from "../ledger/schema.ts"

export interface RequestReport {
  /** The request as the ledger has it: model, tokens, cost, times, outcome. */
  readonly row: LedgerRow
  /** What failed, when it did (its ProviderError names the reason). */
  readonly failure: Cause.Cause<unknown> | undefined
  /** The text sent and the answer: read only when content is captured. Already redacted. */
  readonly content: () => { readonly input: string; readonly output: string }
}

export interface ToolReport {
  readonly name: string
  readonly callId: string
  /** ms since the epoch */
  readonly startedAt: number
  readonly durationMs: number
  /** "ok", "error" (the tool said it failed) or "refused" (the autonomy level did not let it run). */
  readonly outcome: "ok" | "error" | "refused"
  /** Read only when content is captured; the result is what the model got back (redacted). */
  readonly content: () => { readonly arguments: string; readonly result: string }
}

export interface Interface {
  readonly on: boolean
  readonly request: (report: RequestReport) => Effect.Effect<void>
  readonly tool: (report: ToolReport) => Effect.Effect<void>
}

const off: Interface = { on: false, request: () => Effect.void, tool: () => Effect.void }

export const Telemetry = Context.Reference<Interface>("byok/Telemetry", { defaultValue: () => off })
