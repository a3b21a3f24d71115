import { hostedModelFor } from '../routing/models.js'
import { costNanoUsd, DEFAULT_PRICE_TABLE, mergePriceTables, parsePriceTable, type PriceTable } from './pricing.js'
import type { CostFn } from './usage-recorder.js'

/** The price table in force: DeepSeek's published one, with an operator's JSON override merged over it. */
export function priceTableFrom(overrideJson: string | undefined): PriceTable {
  if (!overrideJson) return DEFAULT_PRICE_TABLE
  let parsed: unknown
  try {
    parsed = JSON.parse(overrideJson)
  } catch {
    throw new Error('PRICE_TABLE is not valid JSON')
  }
  return mergePriceTables(DEFAULT_PRICE_TABLE, parsePriceTable(parsed))
}

/**
 * Hosted tokens at the price in force when the request started (peak or off-peak).
 * The model DeepSeek reports is priced if the table knows it, else the model the gateway
 * asked for. Local traffic costs nothing here: its hardware cost is accounted separately.
 */
export function hostedCost(table: PriceTable): CostFn {
  return ({ backend, upstreamModel, requestedModel, at, usage }) => {
    if (backend !== 'hosted') return 0
    const candidates = [upstreamModel, requestedModel ? hostedModelFor(requestedModel)?.upstream : undefined]
    for (const model of candidates) {
      if (!model) continue
      const cost = costNanoUsd(table, model, at, usage)
      if (cost) return cost.costNanoUsd
    }
    return 0
  }
}
