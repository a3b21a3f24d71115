import { describe, expect, it } from 'vitest'
import { costNanoUsdPerHour, HostCostError, type HostCostNames } from '../../src/backends/host-cost.js'

const names: HostCostNames = { whole: 'box.cost', field: (f) => `box.cost.${f}` }
const rate = (raw: unknown) => costNanoUsdPerHour(raw, names)

describe('node-host hourly cost', () => {
  it('spreads hardware over its months of 730.5 h and adds power, in exact nano-USD', () => {
    // 6000 USD / (36 × 730.5 h) = 0.22815423226... USD/h; 450 W × 0.15 USD/kWh = 0.0675 USD/h.
    expect(rate({ hardware_usd: '6000', amortize_months: 36 })).toBe(228_154_232)
    expect(rate({ watts: 450, usd_per_kwh: '0.15' })).toBe(67_500_000)
    expect(rate({ hardware_usd: '6000', amortize_months: 36, watts: 450, usd_per_kwh: '0.15' })).toBe(228_154_232 + 67_500_000)
    expect(rate({ hardware_usd_per_hour: '0.23', watts: 450, usd_per_kwh: '0.15' })).toBe(297_500_000)
  })

  it('reads numbers through their decimal text, so no float error reaches the integer', () => {
    // 0.07 * 1e9 is 70000000.00000001 in floats.
    expect(rate({ watts: 1000, usd_per_kwh: 0.07 })).toBe(70_000_000)
    expect(rate({ hardware_usd_per_hour: 0.1, watts: '87.5', usd_per_kwh: '0.3' })).toBe(100_000_000 + 26_250_000)
  })

  it('rounds the power part half up to a whole nano-USD', () => {
    expect(rate({ watts: 1, usd_per_kwh: '0.0000005' })).toBe(1) // 0.5 nano-USD per hour
    expect(rate({ watts: 1, usd_per_kwh: '0.0000004' })).toBe(0)
  })

  it('treats a missing cost, or missing parts, as 0', () => {
    expect(rate(undefined)).toBe(0)
    expect(rate({})).toBe(0)
    expect(rate({ watts: 450 })).toBe(0)
    expect(rate({ amortize_months: 36 })).toBe(0)
  })

  it.each([
    ['a negative price', { usd_per_kwh: '-0.15' }, 'box.cost.usd_per_kwh'],
    ['a price that is not a number', { hardware_usd_per_hour: 'cheap' }, 'box.cost.hardware_usd_per_hour'],
    ['a number in exponent form', { usd_per_kwh: 1e-10 }, 'box.cost.usd_per_kwh'],
    ['more than 9 decimals', { usd_per_kwh: '0.0000000001' }, 'box.cost.usd_per_kwh'],
    ['negative watts', { watts: -450 }, 'box.cost.watts'],
    ['watts as a boolean', { watts: true }, 'box.cost.watts'],
    ['fractional months', { hardware_usd: '6000', amortize_months: 1.5 }, 'box.cost.amortize_months'],
    ['zero months', { hardware_usd: '6000', amortize_months: 0 }, 'box.cost.amortize_months'],
    ['hardware without months', { hardware_usd: '6000' }, 'box.cost.amortize_months'],
    ['both hardware forms', { hardware_usd: '6000', amortize_months: 36, hardware_usd_per_hour: '0.2' }, 'box.cost.hardware_usd_per_hour'],
    ['an unknown field', { watt: 450 }, 'unknown field "watt"'],
    ['a cost that is not an object', '0.23', 'box.cost must be an object'],
  ])('refuses %s, naming the field', (_what, raw, named) => {
    expect(() => rate(raw)).toThrow(HostCostError)
    expect(() => rate(raw)).toThrow(named)
  })
})
