/**
 * DeepSeek's published prices and peak schedule, as data.
 *
 * Source: DeepSeek API docs, "Models & Pricing" (api-docs.deepseek.com/quick_start/pricing),
 * as published in November 2026. Prices are USD per 1M tokens, written as decimal strings
 * so they convert to integer nano-USD without ever passing through a float.
 *
 * Effective dates (UTC) come from DeepSeek's change notices as reported publicly:
 * - 2026-08-16T16:00Z: peak/off-peak billing starts (00:00 on 17 Aug, Beijing time).
 * - 2026-09-09T16:00Z: deepseek-flash (V4.1 Flash) prices (00:00 on 10 Sep, Beijing time).
 * Instants before an entry's date have no price here: `priceFor` answers undefined.
 *
 * Operators replace or extend this with `PRICE_TABLE` (see parsePriceTable / mergePriceTables).
 */

import type { PriceTableSource } from './price-table-parse.js'

export const DEEPSEEK_PRICE_TABLE_SOURCE: PriceTableSource = [
  {
    model: 'deepseek-flash',
    effectiveFrom: '2026-09-09T16:00:00Z',
    peak: { cacheHit: '0.006', cacheMiss: '0.30', output: '1.20' },
    offPeak: { cacheHit: '0.003', cacheMiss: '0.15', output: '0.60' },
  },
  {
    model: 'deepseek-v4-pro',
    effectiveFrom: '2026-08-16T16:00:00Z',
    peak: { cacheHit: '0.044', cacheMiss: '1.32', output: '3.96' },
    offPeak: { cacheHit: '0.022', cacheMiss: '0.66', output: '1.98' },
  },
]

/** Days of the week (UTC, 0 = Sunday) on which the peak windows apply: Monday to Friday. */
export const PEAK_DAYS_UTC: readonly number[] = [1, 2, 3, 4, 5]

/**
 * Peak windows as [startMinute, endMinute) of the UTC day: 01:00-04:00 and 06:00-10:00.
 * DeepSeek's Chinese page states them as 09:00-12:00 and 14:00-18:00 Beijing time (UTC+8),
 * Monday to Friday; both windows fall on the same calendar day in UTC and in Beijing time,
 * so reading the weekday in UTC gives the same answer as reading it in Beijing time.
 */
export const PEAK_WINDOWS_UTC_MINUTES: readonly (readonly [startMinute: number, endMinute: number])[] = [
  [1 * 60, 4 * 60],
  [6 * 60, 10 * 60],
]
