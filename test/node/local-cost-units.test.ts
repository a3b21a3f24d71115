import { describe, expect, it } from 'vitest'
import { hostedCost, priceTableFrom } from '../../src/metering/cost.js'
import { localCostNanoUsd } from '../../src/metering/local-cost.js'
import { usageCharges } from '../../src/metering/usage-charges.js'

describe('local cost of busy time', () => {
  it('is rate × busy / 1 h, rounded half up', () => {
    expect(localCostNanoUsd(3_600_000_000, 1)).toBe(1_000) // 3.6 USD/h for 1 ms
    expect(localCostNanoUsd(297_500_000, 400)).toBe(33_056) // 33055.55...
    expect(localCostNanoUsd(1_800_000, 1)).toBe(1) // exactly 0.5
    expect(localCostNanoUsd(1_799_999, 1)).toBe(0)
    expect(localCostNanoUsd(0, 10_000)).toBe(0)
  })
})

describe('usage charges', () => {
  const cost = hostedCost(priceTableFrom(JSON.stringify([{ model: 'deepseek-flash', effectiveFrom: '2026-01-01T00:00:00Z', peak: { cacheHit: '0.10', cacheMiss: '1.00', output: '2.00' }, offPeak: { cacheHit: '0.10', cacheMiss: '1.00', output: '2.00' } }])))
  const usage = { promptTokens: 10, cacheHitTokens: 3, cacheMissTokens: 7, completionTokens: 5, reasoningTokens: 0 }
  const at = new Date('2026-10-01T12:00:00Z')
  // 3 × 100 + 7 × 1000 + 5 × 2000 nano-USD.
  const priced = 17_300

  it('prices a hosted request once: its cost is its hosted equivalent', () => {
    expect(usageCharges(cost, { backend: 'hosted', upstreamModel: 'deepseek-flash', hostedModel: 'deepseek-chat', at, usage })).toEqual({ costNanoUsd: priced, hostedEquivNanoUsd: priced, busyMs: null, localCostNanoUsd: 0 })
  })

  it('gives a local request no cost, its hosted model\'s price, and its busy share at the host rate', () => {
    let settled = 0
    const hostShare = { costNanoUsdPerHour: 3_600_000_000, settleBusyMs: () => (settled++, 412.4) }
    expect(usageCharges(cost, { backend: 'local', upstreamModel: 'deepseek-flash-but-local', hostedModel: 'deepseek-chat', at, usage, hostShare })).toEqual({ costNanoUsd: 0, hostedEquivNanoUsd: priced, busyMs: 412, localCostNanoUsd: 412_000 })
    expect(settled).toBe(1)
  })

  it('gives a local request of a model hosted has no price for a hosted equivalent of 0', () => {
    expect(usageCharges(cost, { backend: 'local', upstreamModel: 'deepseek-flash', hostedModel: 'my-own.gguf', at, usage }).hostedEquivNanoUsd).toBe(0)
    expect(usageCharges(cost, { backend: 'local', upstreamModel: 'deepseek-flash', hostedModel: null, at, usage }).hostedEquivNanoUsd).toBe(0)
    // Before the table's first entry there is no price either.
    expect(usageCharges(cost, { backend: 'local', upstreamModel: null, hostedModel: 'deepseek-flash', at: new Date('2025-06-01T00:00:00Z'), usage }).hostedEquivNanoUsd).toBe(0)
  })

  it('charges nothing when no backend took the request', () => {
    expect(usageCharges(cost, { backend: null, upstreamModel: null, hostedModel: 'deepseek-flash', at, usage })).toEqual({ costNanoUsd: 0, hostedEquivNanoUsd: 0, busyMs: null, localCostNanoUsd: 0 })
  })
})
