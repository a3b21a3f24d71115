import { describe, expect, it } from 'vitest'
import { worstCaseCostNanoUsd } from '../../src/limits/budget-cost.js'
import { usd, usdDecimal } from '../../src/limits/budget-format.js'
import { isValidTimeZone, periodBounds } from '../../src/limits/budget-period.js'
import { costNanoUsd, DEFAULT_PRICE_TABLE } from '../../src/metering/pricing.js'

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number) => new Date(ms).toISOString()
const bounds = (period: 'day' | 'week' | 'month', tz: string, when: string) => {
  const b = periodBounds(period, tz, at(when))
  return [iso(b.startMs), iso(b.endMs)]
}

describe('budget periods in a time zone', () => {
  it('starts a month at local midnight on the 1st (Berlin is UTC+1 in winter, +2 in summer)', () => {
    expect(bounds('month', 'Europe/Berlin', '2026-03-15T12:00:00Z')).toEqual(['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z'])
    expect(bounds('month', 'UTC', '2026-12-31T23:59:59.999Z')).toEqual(['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'])
  })

  it('puts an instant just after local midnight in the new period and one just before in the old', () => {
    // 2026-11-30T23:00Z is 00:00 on 1 December in Berlin.
    expect(bounds('month', 'Europe/Berlin', '2026-11-30T22:59:59.999Z')[0]).toBe('2026-10-31T23:00:00.000Z')
    expect(bounds('month', 'Europe/Berlin', '2026-11-30T23:00:00.000Z')[0]).toBe('2026-11-30T23:00:00.000Z')
    // The same instant is still November in UTC.
    expect(bounds('month', 'UTC', '2026-11-30T23:00:00.000Z')[0]).toBe('2026-11-01T00:00:00.000Z')
  })

  it('makes DST days 23 and 25 hours long', () => {
    const spring = periodBounds('day', 'Europe/Berlin', at('2026-03-29T12:00:00Z'))
    expect([iso(spring.startMs), iso(spring.endMs)]).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z'])
    expect(spring.endMs - spring.startMs).toBe(23 * 3_600_000)
    const autumn = periodBounds('day', 'Europe/Berlin', at('2026-10-25T12:00:00Z'))
    expect(autumn.endMs - autumn.startMs).toBe(25 * 3_600_000)
  })

  it('starts weeks on Monday, across a DST change (New York, 1 November 2026)', () => {
    // Tuesday 3 November, 22:00 EST.
    expect(bounds('week', 'America/New_York', '2026-11-04T03:00:00Z')).toEqual(['2026-11-02T05:00:00.000Z', '2026-11-09T05:00:00.000Z'])
    // Sunday 1 November 12:00 EST belongs to the week that began Monday 26 October (EDT).
    expect(bounds('week', 'America/New_York', '2026-11-01T17:00:00Z')).toEqual(['2026-10-26T04:00:00.000Z', '2026-11-02T05:00:00.000Z'])
    // A Monday is the first day of its own week.
    expect(bounds('week', 'UTC', '2026-11-30T00:00:00Z')[0]).toBe('2026-11-30T00:00:00.000Z')
  })

  it('starts a day at the first instant when DST skips midnight (Santiago, 6 September 2026)', () => {
    // Clocks go from 00:00 -04 to 01:00 -03: the day starts at 04:00Z and lasts 23 hours.
    expect(bounds('day', 'America/Santiago', '2026-09-06T12:00:00Z')).toEqual(['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z'])
    // The day before ends where that one starts.
    expect(bounds('day', 'America/Santiago', '2026-09-05T12:00:00Z')[1]).toBe('2026-09-06T04:00:00.000Z')
  })

  it('handles half-hour and +14 h zones', () => {
    expect(bounds('day', 'Asia/Kolkata', '2026-04-05T20:00:00Z')).toEqual(['2026-04-05T18:30:00.000Z', '2026-04-06T18:30:00.000Z'])
    expect(bounds('day', 'Pacific/Kiritimati', '2026-04-05T20:00:00Z')).toEqual(['2026-04-05T10:00:00.000Z', '2026-04-06T10:00:00.000Z'])
  })

  it('knows real zone names and refuses made-up ones', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true)
    expect(isValidTimeZone('UTC')).toBe(true)
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false)
    expect(isValidTimeZone('')).toBe(false)
  })
})

describe('worst-case cost', () => {
  const when = new Date('2026-11-28T12:00:00Z') // a Saturday: off-peak

  it('prices every prompt token as a cache miss and every allowed output token at the peak rate', () => {
    const worst = worstCaseCostNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-flash', when, { promptTokensBound: 1000, completionTokens: 500 })
    // deepseek-flash peak: $0.30 / 1M cache-miss input, $1.20 / 1M output; +1 nano-USD per rounded component.
    expect(worst).toBe(1000 * 300 + 500 * 1200 + 2)
  })

  it('is never below what the request can be billed, at peak or off-peak', () => {
    const tokens = { promptTokensBound: 777, completionTokens: 333 }
    const worst = worstCaseCostNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-v4-pro', when, tokens)
    for (const instant of [when, new Date('2026-11-30T02:00:00Z')]) {
      const billed = costNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-v4-pro', instant, { cacheHitTokens: 0, cacheMissTokens: 777, completionTokens: 333 })!
      expect(billed.costNanoUsd).toBeLessThanOrEqual(worst)
    }
  })

  it('maps legacy names to the hosted model that serves them, and is 0 for models with no hosted price', () => {
    const tokens = { promptTokensBound: 10, completionTokens: 10 }
    expect(worstCaseCostNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-chat', when, tokens)).toBe(worstCaseCostNanoUsd(DEFAULT_PRICE_TABLE, 'deepseek-flash', when, tokens))
    expect(worstCaseCostNanoUsd(DEFAULT_PRICE_TABLE, 'local-moe', when, tokens)).toBe(0)
  })
})

describe('USD formatting', () => {
  it('prints nano-USD exactly, with 2 to 9 decimals', () => {
    expect(usdDecimal(50_000_000_000)).toBe('50.00')
    expect(usdDecimal(1)).toBe('0.000000001')
    expect(usdDecimal(40_500_000_000)).toBe('40.50')
    expect(usd(123_456_789)).toBe('$0.123456789')
  })
})
