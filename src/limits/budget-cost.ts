import { priceFor, type PriceTable } from '../metering/pricing.js'
import { hostedModelFor } from '../routing/models.js'

const MILLION = 1_000_000n

/** tokens * rate / 1e6, rounded up, plus 1: never below the half-up-rounded component pricing bills. */
function componentCeilNanoUsd(tokens: number, rateNanoUsdPerMillion: number): bigint {
  const product = BigInt(tokens) * BigInt(rateNanoUsdPerMillion)
  return (product + MILLION - 1n) / MILLION + 1n
}

/**
 * The most a request can cost on the hosted backend, in nano-USD: every prompt token a cache miss,
 * every allowed completion token produced, at the higher of the peak and off-peak rates of the
 * price entry in force at `at`. 0 when the model has no hosted counterpart or no price (the
 * request cannot be billed, so it consumes no budget).
 */
export function worstCaseCostNanoUsd(table: PriceTable, model: string, at: Date, tokens: { promptTokensBound: number; completionTokens: number }): number {
  const upstream = hostedModelFor(model)?.upstream
  if (!upstream) return 0
  const entry = priceFor(table, upstream, at)
  if (!entry) return 0
  const inputRate = Math.max(entry.peak.cacheMiss, entry.peak.cacheHit, entry.offPeak.cacheMiss, entry.offPeak.cacheHit)
  const outputRate = Math.max(entry.peak.output, entry.offPeak.output)
  const total = componentCeilNanoUsd(tokens.promptTokensBound, inputRate) + componentCeilNanoUsd(tokens.completionTokens, outputRate)
  return total > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(total)
}
