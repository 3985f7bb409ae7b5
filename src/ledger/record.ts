// Builds the ledger row for one request: usage split by class, each class priced, the price's source, timing and
// outcome. Pure: exec and chat call it with what they observed and hand the row to the CostLedger.
import type { ModelEntry } from "../config/schema.ts"
import { emptyUsage, type Usage } from "../providers/event.ts"
import { costOf, type PriceSource, savingsOf, sourceLabel } from "./cost.ts"
import type { LedgerRow } from "./schema.ts"

export interface Observed {
  readonly entry: ModelEntry
  readonly conversationId: string
  readonly startedAt: number
  readonly durationMs: number
  readonly ttftMs: number | undefined
  /** The last usage the server reported, if any. */
  readonly usage: Usage | undefined
  readonly outcome: string
  readonly stopReason: string | undefined
  readonly requestId: string | undefined
  readonly price: PriceSource
}

/** A finished request that failed with no token counted either way (a running row may still get some). */
const noTokens = (o: Observed): boolean => {
  if (o.outcome === "running" || o.outcome === "ok") return false
  const u = o.usage
  return u === undefined || (u.input.total === 0 && u.output.total === 0)
}

export const buildRow = (o: Observed): LedgerRow => {
  const usage = o.usage ?? emptyUsage
  const priced = o.price.kind === "table" || o.price.kind === "config" ? o.price.price : undefined
  const computed = priced !== undefined ? costOf(usage, priced) : undefined
  let cost: LedgerRow["cost"]
  let source = sourceLabel(o.price)
  if (usage.reportedCost !== undefined) {
    // The server's own figure (OpenRouter usage.cost) wins; the split by class is kept where a price is known.
    cost = {
      input: computed?.input ?? null,
      cacheRead: computed?.cacheRead ?? null,
      cacheWrite: computed?.cacheWrite ?? null,
      output: computed?.output ?? null,
      total: usage.reportedCost
    }
    source = "reported"
  } else if (computed !== undefined) {
    cost = computed
  } else if (o.price.kind === "local") {
    cost = { input: 0, cacheRead: 0, cacheWrite: 0, output: 0, total: 0 }
  } else if (noTokens(o)) {
    // Failed before the server took a token (DNS, refused, 401): nothing to price, so not "unpriced" either.
    cost = { input: 0, cacheRead: 0, cacheWrite: 0, output: 0, total: 0 }
    source = "no tokens"
  }
  return {
    ts: o.startedAt,
    conversationId: o.conversationId,
    modelName: o.entry.displayName,
    provider: o.entry.provider,
    modelId: o.entry.model,
    host: o.entry.endpoint.host,
    inputUncached: usage.input.uncached,
    cacheRead: usage.input.cacheRead,
    cacheWrite5m: usage.input.cacheWrite - usage.input.cacheWrite1h,
    cacheWrite1h: usage.input.cacheWrite1h,
    outputTokens: usage.output.total,
    reasoningTokens: usage.output.reasoning,
    usageReported: o.usage !== undefined && o.usage.native !== null && o.usage.estimated !== true,
    estimated: o.usage?.estimated === true,
    cost,
    savings: priced !== undefined ? savingsOf(usage, priced) : o.price.kind === "local" ? 0 : undefined,
    priceSource: source,
    requestId: o.requestId,
    durationMs: o.durationMs,
    ttftMs: o.ttftMs,
    outcome: o.outcome,
    stopReason: o.stopReason
  }
}
