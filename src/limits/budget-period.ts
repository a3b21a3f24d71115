/**
 * Budget periods: calendar days, weeks (Monday to Sunday) and months in an IANA time zone.
 *
 * A period starts at local midnight in the budget's zone, computed with Intl.DateTimeFormat
 * (Web-standard, the same in Node and workerd). Where a DST change skips local midnight
 * (e.g. America/Santiago), the period starts at the first instant of that local day.
 * Where midnight happens twice, it starts at the earlier one.
 */
import type { BudgetPeriod } from '../db/schema.js'

export interface PeriodBounds {
  /** First instant of the period, ms since epoch. */
  startMs: number
  /** First instant of the next period (exclusive end). */
  endMs: number
}

interface LocalDate {
  year: number
  /** 1-12 */
  month: number
  day: number
}

const DAY_MS = 86_400_000
const formats = new Map<string, Intl.DateTimeFormat>()

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    formats.set(timeZone, format)
  }
  return format
}

/** True for zone names this runtime's Intl knows (e.g. 'UTC', 'Europe/Berlin'). */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.length === 0 || timeZone.length > 64) return false
  try {
    formatFor(timeZone)
    return true
  } catch {
    return false
  }
}

/** The wall clock in `timeZone` at `atMs`, as if it were a UTC instant (seconds precision). */
function wallClockMs(timeZone: string, atMs: number): number {
  const parts: Record<string, number> = {}
  for (const part of formatFor(timeZone).formatToParts(atMs)) if (part.type !== 'literal') parts[part.type] = Number(part.value)
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!)
}

function localDateAt(timeZone: string, atMs: number): LocalDate {
  const wall = new Date(wallClockMs(timeZone, atMs))
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() }
}

/** The first instant of local date `date` in `timeZone`. */
export function startOfLocalDay(timeZone: string, date: LocalDate): number {
  const midnightAsUtc = Date.UTC(date.year, date.month - 1, date.day)
  // The zone's offsets around that day (at most one change in between): one of them is in force at midnight.
  const offsets = new Set([-DAY_MS, 0, DAY_MS].map((d) => wallClockMs(timeZone, midnightAsUtc + d) - (midnightAsUtc + d)))
  const candidates = [...offsets].map((offset) => midnightAsUtc - offset).sort((a, b) => a - b)
  const exact = candidates.find((c) => wallClockMs(timeZone, c) === midnightAsUtc)
  if (exact !== undefined) return exact
  // Midnight was skipped: the day starts at the change, the earliest candidate that is already on that date.
  const sameDay = candidates.find((c) => Math.floor(wallClockMs(timeZone, c) / DAY_MS) * DAY_MS === midnightAsUtc)
  return sameDay ?? candidates[0]!
}

function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days))
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }
}

function periodDates(period: BudgetPeriod, today: LocalDate): { first: LocalDate; next: LocalDate } {
  if (period === 'day') return { first: today, next: addDays(today, 1) }
  if (period === 'week') {
    // getUTCDay: 0 = Sunday; weeks start on Monday (ISO 8601).
    const sinceMonday = (new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay() + 6) % 7
    const first = addDays(today, -sinceMonday)
    return { first, next: addDays(first, 7) }
  }
  const first = { year: today.year, month: today.month, day: 1 }
  const next = today.month === 12 ? { year: today.year + 1, month: 1, day: 1 } : { year: today.year, month: today.month + 1, day: 1 }
  return { first, next }
}

/**
 * The period of a budget that contains `atMs`.
 * @example periodBounds('month', 'Europe/Berlin', Date.parse('2026-03-15T12:00:00Z')) // { startMs: 2026-02-28T23:00Z, endMs: 2026-03-31T22:00Z }
 */
export function periodBounds(period: BudgetPeriod, timeZone: string, atMs: number): PeriodBounds {
  const { first, next } = periodDates(period, localDateAt(timeZone, atMs))
  return { startMs: startOfLocalDay(timeZone, first), endMs: startOfLocalDay(timeZone, next) }
}
