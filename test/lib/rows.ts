// Ledger rows for tests.
import type { LedgerRow } from "../../src/ledger/schema.ts"

const DEFAULT_TS = Date.parse("2026-11-20T10:00:00Z")

export const sampleRow = (over: Partial<LedgerRow> = {}): LedgerRow => ({
  ts: DEFAULT_TS,
  conversationId: "conv-a",
  modelName: "Claude Sonnet",
  provider: "anthropic",
  modelId: "claude-sonnet-4-5",
  host: "api.anthropic.com",
  inputUncached: 100,
  cacheRead: 900,
  cacheWrite5m: 50,
  cacheWrite1h: 0,
  outputTokens: 40,
  reasoningTokens: 10,
  usageReported: true,
  estimated: false,
  cost: { input: 0.0003, cacheRead: 0.00027, cacheWrite: 0.0001875, output: 0.0006, total: 0.0013575 },
  savings: 0.0024,
  priceSource: "table 2026-11-26",
  requestId: "req_1",
  durationMs: 1200,
  ttftMs: 300,
  outcome: "ok",
  stopReason: "end_turn",
  ...over
})
