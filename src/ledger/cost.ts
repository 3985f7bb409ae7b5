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

const PRIVATE_HOST = /^(localhost|.*\.local|.*\.localhost|127\.\d+\.\d+\.\d+|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+|169\.254\.\d+\.\d+|0\.0\.0\.0|\[?::1\]?|\[?f[cd][0-9a-f]{2}:.*)$/i

/** Loopback, private and link-local hosts: a model served there costs nothing per token. */
export const isLocalHost = (hostname: string): boolean => PRIVATE_HOST.test(hostname)

/** The price for a model: the user's override, local (free), the bundled table, or unpriced. */
export const priceFor = (entry: ModelEntry, override: Price | undefined): PriceSource => {
  if (override !== undefined) return { kind: "config", price: override }
  const url = URL.parse(entry.baseUrl)
  const hostname = url?.hostname ?? ""
  if (isLocalHost(hostname)) return { kind: "local" }
  const row = findPrice(entry.model, hostname)
  return row !== undefined ? { kind: "table", asOf: row.asOf, price: row } : { kind: "unpriced" }
}
