import { usdDecimal } from '../limits/budget-format.js'

/*
 * How the pages write numbers. Exact values go in data-value attributes; these are for people.
 */

const NANO_PER_USD = 1_000_000_000

/** 1234567 → "1,234,567" (no Intl: the same output in Node and workerd). */
export function count(n: number): string {
  const sign = n < 0 ? '-' : ''
  return sign + String(Math.abs(Math.round(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** Cents from a dollar up, else up to six decimals, so a fraction of a cent still shows: "$1,234.50", "$0.000123". */
export function money(nanoUsd: number): string {
  const sign = nanoUsd < 0 ? '-' : ''
  const abs = Math.abs(nanoUsd)
  if (abs >= NANO_PER_USD) {
    const cents = Math.round(abs / 10_000_000)
    return `${sign}$${count(Math.floor(cents / 100))}.${String(cents % 100).padStart(2, '0')}`
  }
  const micro = Math.round(abs / 1000)
  return `${sign}$${usdDecimal(micro * 1000)}`
}

/** The exact amount, for a title attribute: "$0.000123456". */
export function exactMoney(nanoUsd: number): string {
  return nanoUsd < 0 ? `-$${usdDecimal(-nanoUsd)}` : `$${usdDecimal(nanoUsd)}`
}

/** "850 ms", "1.25 s", "—" for no value. */
export function duration(ms: number | null): string {
  if (ms === null) return '—'
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(2).replace(/\.?0+$/, '')} s`
}

/** part/whole as "42.5%", "—" when whole is 0. */
export function share(part: number, whole: number): string {
  if (whole === 0) return '—'
  return `${((part / whole) * 100).toFixed(1).replace(/\.0$/, '')}%`
}

/** Tokens per second: "18.4 tok/s". */
export function rate(tokensPerSecond: number | null): string {
  return tokensPerSecond === null ? '—' : `${tokensPerSecond.toFixed(1)} tok/s`
}

/** "2026-11-03 14:05" in the viewer's offset (minutes east of UTC). */
export function dateTime(ms: number, tzOffsetMin: number): string {
  return new Date(ms + tzOffsetMin * 60_000).toISOString().slice(0, 16).replace('T', ' ')
}

/** "2026-11-03" in the viewer's offset. */
export function day(ms: number, tzOffsetMin: number): string {
  return new Date(ms + tzOffsetMin * 60_000).toISOString().slice(0, 10)
}
