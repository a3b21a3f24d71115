import type { BudgetPeriod } from '../db/schema.js'

const NANO_PER_USD = 1_000_000_000

/** Exact decimal USD of a nano-USD integer: at least 2 decimals, at most 9, no float on the way ("40.00", "0.000123"). */
export function usdDecimal(nanoUsd: number): string {
  const sign = nanoUsd < 0 ? '-' : ''
  const abs = Math.abs(nanoUsd)
  const whole = Math.floor(abs / NANO_PER_USD)
  const fraction = String(abs % NANO_PER_USD).padStart(9, '0').replace(/0+$/, '').padEnd(2, '0')
  return `${sign}${whole}.${fraction}`
}

/** For messages and headers: "$40.00". */
export function usd(nanoUsd: number): string {
  return nanoUsd < 0 ? `-$${usdDecimal(-nanoUsd)}` : `$${usdDecimal(nanoUsd)}`
}

const PERIOD_WORDS: Record<BudgetPeriod, string> = { day: 'daily', week: 'weekly', month: 'monthly' }

export function periodWord(period: BudgetPeriod): string {
  return PERIOD_WORDS[period]
}
