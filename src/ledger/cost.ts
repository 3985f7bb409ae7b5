// Cost math: pure functions from usage and a price to dollars per token class, cache hit rate and savings.
// Each class is priced on its own, from the normalised Usage, never re-derived from the native fields.
import type { ModelEntry } from "../config/schema.ts"
import type { Usage } from "../providers/event.ts"
import { findPrice, type Price } from "./prices.ts"

export interface Cost {
  readonly input: number
  readonly cacheRead: number
  readonly cacheWrite: number
  readonly output: number
  readonly total: number
}

/** Where a request's price came from. */
export type PriceSource =
  | { readonly kind: "table"; readonly asOf: string; readonly price: Price }
  | { readonly kind: "config"; readonly price: Price }
  | { readonly kind: "local" }
  | { readonly kind: "unpriced" }

export const sourceLabel = (source: PriceSource): string =>
  source.kind === "table" ? `table ${source.asOf}` : source.kind

const PER_MILLION = 1_000_000

/** Dollars for each token class. Reasoning tokens are part of output and priced with it. */
export const costOf = (usage: Usage, price: Price): Cost => {
  const write5m = usage.input.cacheWrite - usage.input.cacheWrite1h
  const input = (usage.input.uncached * price.input) / PER_MILLION
  const cacheRead = (usage.input.cacheRead * (price.cacheRead ?? price.input)) / PER_MILLION
  const write5mRate = price.cacheWrite ?? price.input
  const cacheWrite = (write5m * write5mRate + usage.input.cacheWrite1h * (price.cacheWrite1h ?? write5mRate)) /
    PER_MILLION
  const output = (usage.output.total * price.output) / PER_MILLION
  return { input, cacheRead, cacheWrite, output, total: input + cacheRead + cacheWrite + output }
}

/**
 * What caching saved: the cache reads at the full input price minus what they cost, minus the premium paid on
 * cache writes over plain input. Negative when writes were never read back.
 */
export const savingsOf = (usage: Usage, price: Price): number => {
  const write5m = usage.input.cacheWrite - usage.input.cacheWrite1h
  const write5mRate = price.cacheWrite ?? price.input
  const readSaving = usage.input.cacheRead * (price.input - (price.cacheRead ?? price.input))
  const writePremium = write5m * (write5mRate - price.input) +
    usage.input.cacheWrite1h * ((price.cacheWrite1h ?? write5mRate) - price.input)
  return (readSaving - writePremium) / PER_MILLION
}

/** Cache reads as a share of all input; undefined when there was no input. */
export const hitRate = (cacheRead: number, inputTotal: number): number | undefined =>
  inputTotal > 0 ? cacheRead / inputTotal : undefined

/** The price for a model: the user's override, local (free), the bundled table, or unpriced. */
export const priceFor = (entry: ModelEntry, override: Price | undefined): PriceSource => {
  if (override !== undefined) return { kind: "config", price: override }
  if (entry.endpoint.isLocal) return { kind: "local" }
  const row = findPrice(entry.model, entry.endpoint.hostname)
  return row !== undefined ? { kind: "table", asOf: row.asOf, price: row } : { kind: "unpriced" }
}
