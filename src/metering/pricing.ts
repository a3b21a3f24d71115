/**
 * What a hosted DeepSeek request cost, exactly, in integer nano-USD (1 USD = 1e9 nano-USD).
 *
 * Rounding rule: each of the three components (cache-hit input, cache-miss input, output)
 * is `tokens * rateNanoUsdPerMillion / 1e6`, computed in BigInt and rounded half up to a
 * whole nano-USD; the cost is the sum of the three rounded components. A request's cost is
 * therefore at most 1.5 nano-USD from the unrounded value. With DeepSeek's current prices
 * every rate is a whole number of nano-USD per token, so nothing is ever rounded.
 *
 * Overflow: the products are BigInt, so they cannot overflow; only the final per-component
 * and total costs are converted back to numbers, and they are checked to be safe integers
 * (up to ~9e15 nano-USD, i.e. ~9 million USD for one request).
 *
 * Reasoning tokens are billed as output: DeepSeek counts them inside completion_tokens.
 * Web-standard only (runs in workerd too).
 */

import { DEEPSEEK_PRICE_TABLE_SOURCE, PEAK_DAYS_UTC, PEAK_WINDOWS_UTC_MINUTES } from './price-table.js'
import { parsePriceTable, type PriceEntry, type PriceTable, type RatesNanoUsdPerMillion } from './price-table-parse.js'

export { parsePriceTable, mergePriceTables, usdDecimalToNano, PriceTableError } from './price-table-parse.js'
export type { PriceEntry, PriceTable, PriceEntrySource, PriceTableSource, RatesNanoUsdPerMillion } from './price-table-parse.js'

/** DeepSeek's published prices, parsed once. */
export const DEFAULT_PRICE_TABLE: PriceTable = parsePriceTable(DEEPSEEK_PRICE_TABLE_SOURCE)

/** Token counts as DeepSeek reports them: prompt_cache_hit_tokens, prompt_cache_miss_tokens, completion_tokens. */
export interface BillableUsage {
  readonly cacheHitTokens: number
  readonly cacheMissTokens: number
  /** Includes reasoning tokens. */
  readonly completionTokens: number
}

export interface CostBreakdownNanoUsd {
  readonly cacheHitNanoUsd: number
  readonly cacheMissNanoUsd: number
  readonly outputNanoUsd: number
}

export interface Cost {
  readonly costNanoUsd: number
  readonly breakdown: CostBreakdownNanoUsd
  /** Which entry priced it, `model@effectiveFrom`, for the usage record. */
  readonly priceId: string
  readonly effectiveFrom: string
  readonly peak: boolean
  readonly ratesNanoUsdPerMillion: RatesNanoUsdPerMillion
}

function assertValidInstant(at: Date): number {
  const ms = at.getTime()
  if (Number.isNaN(ms)) throw new RangeError('pricing: invalid Date')
  return ms
}

/** True inside DeepSeek's peak windows: 01:00-04:00 and 06:00-10:00 UTC, Monday to Friday. Start inclusive, end exclusive. */
export function isPeak(at: Date): boolean {
  assertValidInstant(at)
  if (!PEAK_DAYS_UTC.includes(at.getUTCDay())) return false
  const minuteOfDay = at.getUTCHours() * 60 + at.getUTCMinutes()
  return PEAK_WINDOWS_UTC_MINUTES.some(([start, end]) => minuteOfDay >= start && minuteOfDay < end)
}

/** The entry for `model` in force at `at`: the latest effectiveFrom <= at. Undefined if none. */
export function priceFor(table: PriceTable, model: string, at: Date): PriceEntry | undefined {
  const atMs = assertValidInstant(at)
  let found: PriceEntry | undefined
  for (const entry of table) {
    if (entry.model === model && entry.effectiveFromMs <= atMs && (!found || entry.effectiveFromMs > found.effectiveFromMs)) found = entry
  }
  return found
}

function assertTokenCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`pricing: ${name} must be a non-negative integer, got ${value}`)
}

function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`pricing: ${what} exceeds ${Number.MAX_SAFE_INTEGER} nano-USD`)
  return Number(value)
}

const MILLION = 1_000_000n
const HALF_MILLION = 500_000n

/** tokens * rate / 1e6, rounded half up, exact. */
export function componentCostNanoUsd(tokens: number, rateNanoUsdPerMillion: number): number {
  const product = BigInt(tokens) * BigInt(rateNanoUsdPerMillion)
  return toSafeNumber((product + HALF_MILLION) / MILLION, 'a cost component')
}

/**
 * Prices one request. Undefined when the table has no price for `model` at `at`
 * (the caller records cost 0 and flags the record as unpriced).
 * @example costNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-flash', new Date(), { cacheHitTokens: 0, cacheMissTokens: 100, completionTokens: 20 })
 */
export function costNanoUsd(table: PriceTable, model: string, at: Date, usage: BillableUsage): Cost | undefined {
  assertTokenCount('cacheHitTokens', usage.cacheHitTokens)
  assertTokenCount('cacheMissTokens', usage.cacheMissTokens)
  assertTokenCount('completionTokens', usage.completionTokens)
  const entry = priceFor(table, model, at)
  if (!entry) return undefined
  const peak = isPeak(at)
  const rates = peak ? entry.peak : entry.offPeak
  const breakdown: CostBreakdownNanoUsd = {
    cacheHitNanoUsd: componentCostNanoUsd(usage.cacheHitTokens, rates.cacheHit),
    cacheMissNanoUsd: componentCostNanoUsd(usage.cacheMissTokens, rates.cacheMiss),
    outputNanoUsd: componentCostNanoUsd(usage.completionTokens, rates.output),
  }
  const total = BigInt(breakdown.cacheHitNanoUsd) + BigInt(breakdown.cacheMissNanoUsd) + BigInt(breakdown.outputNanoUsd)
  return {
    costNanoUsd: toSafeNumber(total, 'the request cost'),
    breakdown,
    priceId: `${entry.model}@${entry.effectiveFrom}`,
    effectiveFrom: entry.effectiveFrom,
    peak,
    ratesNanoUsdPerMillion: rates,
  }
}
