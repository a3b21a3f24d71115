import { hostedModelFor } from '../routing/models.js'
import { costNanoUsd, DEFAULT_PRICE_TABLE, mergePriceTables, parsePriceTable, type PriceTable } from './pricing.js'
import type { CostFn } from './usage-charges.js'

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
 * Tokens at the hosted price in force when the request started (peak or off-peak). For hosted
 * traffic that is its cost: the model DeepSeek reports is priced if the table knows it, else the
 * request's hosted model. Local traffic costs nothing here (its hardware is accounted by busy
 * time) but gets the same hosted-equivalent price, of its hosted model only: a node-host's own
 * model name means nothing to DeepSeek's table. 0 when no model has a price.
 */
export function hostedCost(table: PriceTable): CostFn {
  return ({ backend, upstreamModel, hostedModel, at, usage }) => {
    const hostedUpstream = hostedModel ? hostedModelFor(hostedModel)?.upstream : undefined
    const candidates = backend === 'hosted' ? [upstreamModel, hostedUpstream] : [hostedUpstream]
    let hostedEquivNanoUsd = 0
    for (const model of candidates) {
      const cost = model ? costNanoUsd(table, model, at, usage) : undefined
      if (cost) {
        hostedEquivNanoUsd = cost.costNanoUsd
        break
      }
    }
    return { costNanoUsd: backend === 'hosted' ? hostedEquivNanoUsd : 0, hostedEquivNanoUsd }
  }
}
