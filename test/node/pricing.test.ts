import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  DEFAULT_PRICE_TABLE,
  PriceTableError,
  costNanoUsd,
  isPeak,
  mergePriceTables,
  parsePriceTable,
  priceFor,
  usdDecimalToNano,
} from '../../src/metering/pricing.js'

// 2026-11-23 is a Monday, 2026-11-27 a Friday, 2026-11-28 a Saturday.
const MONDAY_PEAK = new Date('2026-11-23T02:00:00Z')
const MONDAY_OFF_PEAK = new Date('2026-11-23T12:00:00Z')
const usage = { cacheHitTokens: 1000, cacheMissTokens: 2000, completionTokens: 500 }

describe('isPeak', () => {
  it.each([
    ['2026-11-23T00:59:59Z', false],
    ['2026-11-23T01:00:00Z', true],
    ['2026-11-23T03:59:59Z', true],
    ['2026-11-23T04:00:00Z', false],
    ['2026-11-23T05:59:59Z', false],
    ['2026-11-23T06:00:00Z', true],
    ['2026-11-23T09:59:59.999Z', true],
    ['2026-11-23T10:00:00Z', false],
    ['2026-11-27T09:59:00Z', true], // Friday
    ['2026-11-28T09:59:00Z', false], // Saturday
    ['2026-11-29T02:00:00Z', false], // Sunday
    ['2026-11-27T23:59:59Z', false],
  ])('%s -> %s', (iso, expected) => {
    expect(isPeak(new Date(iso))).toBe(expected)
  })

  it('refuses an invalid Date rather than guessing', () => {
    expect(() => isPeak(new Date('nope'))).toThrow(RangeError)
  })
})

describe('costNanoUsd with the published prices', () => {
  // Expected values are written out by hand from the price page (nano-USD per token:
  // flash 6/300/1200 peak, 3/150/600 off-peak; v4-pro 44/1320/3960 peak, 22/660/1980 off-peak).
  it.each([
    ['deepseek-flash', MONDAY_PEAK, true, 6_000, 600_000, 600_000, 1_206_000],
    ['deepseek-flash', MONDAY_OFF_PEAK, false, 3_000, 300_000, 300_000, 603_000],
    ['deepseek-v4-pro', MONDAY_PEAK, true, 44_000, 2_640_000, 1_980_000, 4_664_000],
    ['deepseek-v4-pro', MONDAY_OFF_PEAK, false, 22_000, 1_320_000, 990_000, 2_332_000],
  ] as const)('%s at %s', (model, at, peak, hit, miss, output, total) => {
    const cost = costNanoUsd(DEFAULT_PRICE_TABLE, model, at, usage)
    expect(cost).toMatchObject({
      costNanoUsd: total,
      peak,
      breakdown: { cacheHitNanoUsd: hit, cacheMissNanoUsd: miss, outputNanoUsd: output },
    })
  })

  it('prices the window edges differently', () => {
    const one = { cacheHitTokens: 0, cacheMissTokens: 0, completionTokens: 1_000_000 }
    const at = (iso: string) => costNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-flash', new Date(iso), one)?.costNanoUsd
    expect(at('2026-11-23T00:59:59Z')).toBe(600_000_000) // $0.60
    expect(at('2026-11-23T01:00:00Z')).toBe(1_200_000_000) // $1.20
    expect(at('2026-11-23T03:59:59Z')).toBe(1_200_000_000)
    expect(at('2026-11-23T04:00:00Z')).toBe(600_000_000)
    expect(at('2026-11-27T09:59:00Z')).toBe(1_200_000_000)
    expect(at('2026-11-28T09:59:00Z')).toBe(600_000_000)
  })

  it('names the entry that priced it', () => {
    const cost = costNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-flash', MONDAY_PEAK, usage)
    expect(cost?.priceId).toBe('deepseek-flash@2026-09-09T16:00:00Z')
    expect(cost?.effectiveFrom).toBe('2026-09-09T16:00:00Z')
    expect(cost?.ratesNanoUsdPerMillion).toEqual({ cacheHit: 6_000_000, cacheMiss: 300_000_000, output: 1_200_000_000 })
  })

  it('answers undefined for a model it has no price for (legacy names are mapped by routing, not here)', () => {
    expect(costNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-chat', MONDAY_PEAK, usage)).toBeUndefined()
    expect(costNanoUsd(DEFAULT_PRICE_TABLE, 'llama-local', MONDAY_PEAK, usage)).toBeUndefined()
  })

  it('costs zero tokens at zero', () => {
    expect(costNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-v4-pro', MONDAY_PEAK, { cacheHitTokens: 0, cacheMissTokens: 0, completionTokens: 0 })?.costNanoUsd).toBe(0)
  })

  it('refuses token counts that are not non-negative integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => costNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-flash', MONDAY_PEAK, { ...usage, completionTokens: bad })).toThrow(RangeError)
    }
  })

  it('throws instead of losing precision when a cost is beyond safe integers', () => {
    const huge = { cacheHitTokens: 0, cacheMissTokens: 0, completionTokens: Number.MAX_SAFE_INTEGER }
    expect(() => costNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-v4-pro', MONDAY_PEAK, huge)).toThrow(/exceeds/)
  })
})

describe('summing many small costs', () => {
  it('100,000 one-token cache hits off-peak add up to exactly 300,000 nano-USD', () => {
    let total = 0
    const one = { cacheHitTokens: 1, cacheMissTokens: 0, completionTokens: 0 }
    for (let i = 0; i < 100_000; i++) total += costNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-flash', MONDAY_OFF_PEAK, one)!.costNanoUsd
    expect(total).toBe(300_000)
  })

  it('matches a BigInt reference for random usage at random instants', () => {
    // Reference: whole nano-USD per token from the price page, multiplied in BigInt.
    const perToken = {
      'deepseek-flash': { peak: [6n, 300n, 1200n], offPeak: [3n, 150n, 600n] },
      'deepseek-v4-pro': { peak: [44n, 1320n, 3960n], offPeak: [22n, 660n, 1980n] },
    } as const
    const request = fc.record({
      model: fc.constantFrom('deepseek-flash', 'deepseek-v4-pro'),
      atMs: fc.integer({ min: Date.parse('2026-09-10T00:00:00Z'), max: Date.parse('2027-09-10T00:00:00Z') }),
      hit: fc.nat({ max: 1_000_000 }),
      miss: fc.nat({ max: 1_000_000 }),
      out: fc.nat({ max: 400_000 }),
    })
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 300 }), (requests) => {
        let sum = 0
        let reference = 0n
        for (const r of requests) {
          const at = new Date(r.atMs)
          sum += costNanoUsd(DEFAULT_PRICE_TABLE, r.model, at, { cacheHitTokens: r.hit, cacheMissTokens: r.miss, completionTokens: r.out })!.costNanoUsd
          const [hit, miss, out] = perToken[r.model][isPeak(at) ? 'peak' : 'offPeak']
          reference += BigInt(r.hit) * hit + BigInt(r.miss) * miss + BigInt(r.out) * out
        }
        expect(BigInt(sum)).toBe(reference)
      }),
      { numRuns: 200 },
    )
  })
})

const rates = (cacheHit: string, cacheMiss: string, output: string) => ({ cacheHit, cacheMiss, output })
const entry = (model: string, effectiveFrom: string, peak = rates('1', '2', '3'), offPeak = peak) => ({ model, effectiveFrom, peak, offPeak })

describe('priceFor and effective dates', () => {
  const table = parsePriceTable([
    entry('m', '2026-06-01T00:00:00Z', rates('0.2', '0.2', '0.2')),
    entry('m', '2026-01-01T00:00:00Z', rates('0.1', '0.1', '0.1')),
    entry('other', '2020-01-01T00:00:00Z'),
  ])

  it('picks the latest entry in force at the instant', () => {
    expect(priceFor(table, 'm', new Date('2025-12-31T23:59:59.999Z'))).toBeUndefined()
    expect(priceFor(table, 'm', new Date('2026-01-01T00:00:00Z'))?.peak.output).toBe(100_000_000)
    expect(priceFor(table, 'm', new Date('2026-05-31T23:59:59Z'))?.peak.output).toBe(100_000_000)
    expect(priceFor(table, 'm', new Date('2026-06-01T00:00:00Z'))?.peak.output).toBe(200_000_000)
    expect(priceFor(table, 'missing', new Date('2026-06-01T00:00:00Z'))).toBeUndefined()
  })

  it('has no price for deepseek-flash before it launched', () => {
    expect(priceFor(DEFAULT_PRICE_TABLE, 'deepseek-flash', new Date('2026-09-09T15:59:59Z'))).toBeUndefined()
    expect(priceFor(DEFAULT_PRICE_TABLE, 'deepseek-flash', new Date('2026-09-09T16:00:00Z'))).toBeDefined()
  })
})

describe('rounding', () => {
  it('rounds each component half up to a whole nano-USD', () => {
    // 0.0005 USD per 1M tokens = 0.5 nano-USD per token.
    const table = parsePriceTable([entry('half', '2026-01-01T00:00:00Z', rates('0.0005', '0.0000015', '0.0005'))])
    const cost = (hit: number, miss: number, out: number) =>
      costNanoUsd(table, 'half', MONDAY_PEAK, { cacheHitTokens: hit, cacheMissTokens: miss, completionTokens: out })!
    expect(cost(1, 0, 0).costNanoUsd).toBe(1) // 0.5 -> 1
    expect(cost(3, 0, 0).costNanoUsd).toBe(2) // 1.5 -> 2
    expect(cost(0, 333, 0).costNanoUsd).toBe(0) // 0.4995 -> 0
    expect(cost(0, 334, 0).costNanoUsd).toBe(1) // 0.501 -> 1
    expect(cost(1, 0, 1).breakdown).toEqual({ cacheHitNanoUsd: 1, cacheMissNanoUsd: 0, outputNanoUsd: 1 })
  })
})

describe('parsePriceTable', () => {
  it('converts decimal strings to nano-USD exactly', () => {
    expect(usdDecimalToNano('0.006', 'x')).toBe(6_000_000)
    expect(usdDecimalToNano('1.32', 'x')).toBe(1_320_000_000)
    expect(usdDecimalToNano('0.000000001', 'x')).toBe(1)
    expect(usdDecimalToNano('999999.999999999', 'x')).toBe(999_999_999_999_999)
  })

  it('parses the built-in table into sorted entries', () => {
    expect(DEFAULT_PRICE_TABLE.map((e) => e.model)).toEqual(['deepseek-flash', 'deepseek-v4-pro'])
    expect(DEFAULT_PRICE_TABLE[1]?.offPeak).toEqual({ cacheHit: 22_000_000, cacheMiss: 660_000_000, output: 1_980_000_000 })
  })

  it.each([
    ['a non-array', { prices: [] }, /expected a JSON array/],
    ['a non-object entry', ['x'], /\[0\]: expected an object/],
    ['an unknown entry field', [{ ...entry('m', '2026-01-01T00:00:00Z'), currency: 'USD' }], /\[0\]: unknown field "currency"/],
    ['a number price', [entry('m', '2026-01-01T00:00:00Z', { cacheHit: 0.3, cacheMiss: '1', output: '1' } as never)], /\[0\]\.peak\.cacheHit: expected a decimal USD string/],
    ['ten decimals', [entry('m', '2026-01-01T00:00:00Z', rates('0.0000000001', '1', '1'))], /\[0\]\.peak\.cacheHit: .* at most 9 decimals/],
    ['a negative price', [entry('m', '2026-01-01T00:00:00Z', rates('-1', '1', '1'))], /\[0\]\.peak\.cacheHit/],
    ['exponent notation', [entry('m', '2026-01-01T00:00:00Z', rates('1e-3', '1', '1'))], /\[0\]\.peak\.cacheHit/],
    ['a price too large to hold exactly', [entry('m', '2026-01-01T00:00:00Z', rates('1000000', '1', '1'))], /\[0\]\.peak\.cacheHit/],
    ['a missing rate', [entry('m', '2026-01-01T00:00:00Z', { cacheHit: '1', cacheMiss: '1' } as never)], /\[0\]\.peak\.output: missing/],
    ['a misspelt rate', [entry('m', '2026-01-01T00:00:00Z', { cachehit: '1', cacheMiss: '1', output: '1' } as never)], /unknown field "cachehit"/],
    ['a missing offPeak', [{ model: 'm', effectiveFrom: '2026-01-01T00:00:00Z', peak: rates('1', '1', '1') }], /\[0\]\.offPeak: expected an object/],
    ['a local-time instant', [entry('m', '2026-01-01T00:00:00')], /\[0\]\.effectiveFrom: expected an ISO-8601 UTC instant/],
    ['an offset instant', [entry('m', '2026-01-01T08:00:00+08:00')], /\[0\]\.effectiveFrom/],
    ['an impossible date', [entry('m', '2026-02-30T00:00:00Z')], /not a real calendar instant/],
    ['an empty model', [entry('', '2026-01-01T00:00:00Z')], /\[0\]\.model/],
    ['a padded model', [entry(' m', '2026-01-01T00:00:00Z')], /\[0\]\.model/],
    ['a duplicate entry', [entry('m', '2026-01-01T00:00:00Z'), entry('m', '2026-01-01T00:00:00.000Z')], /\[1\]: a second entry for m/],
  ])('rejects %s', (_what, json, message) => {
    expect(() => parsePriceTable(json)).toThrow(PriceTableError)
    expect(() => parsePriceTable(json)).toThrow(message)
  })
})

describe('mergePriceTables', () => {
  it("lets the operator's entries for a model replace all built-in ones, even earlier-dated", () => {
    const override = parsePriceTable([entry('deepseek-flash', '2026-01-01T00:00:00Z', rates('0.01', '0.5', '2'), rates('0.005', '0.25', '1'))])
    const merged = mergePriceTables(DEFAULT_PRICE_TABLE, override)
    const flash = costNanoUsd(merged, 'deepseek-flash', MONDAY_PEAK, usage)
    expect(flash?.costNanoUsd).toBe(1000 * 10 + 2000 * 500 + 500 * 2000)
    expect(flash?.priceId).toBe('deepseek-flash@2026-01-01T00:00:00Z')
    expect(costNanoUsd(merged, 'deepseek-v4-pro', MONDAY_PEAK, usage)?.costNanoUsd).toBe(4_664_000)
  })

  it('adds models the base does not know and leaves the base untouched', () => {
    const merged = mergePriceTables(DEFAULT_PRICE_TABLE, parsePriceTable([entry('my-model', '2026-01-01T00:00:00Z')]))
    expect(merged.map((e) => e.model)).toEqual(['deepseek-flash', 'deepseek-v4-pro', 'my-model'])
    expect(DEFAULT_PRICE_TABLE).toHaveLength(2)
  })
})
