import { day } from './format.js'
import type { Period } from './report-types.js'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000
/** Longest custom range: a year and a bit, so a page never sums decades of rollups by mistake. */
const MAX_RANGE_DAYS = 400
/** Real time zones lie within UTC-12 and UTC+14. */
const MAX_OFFSET_MIN = 14 * 60

export interface PeriodQuery {
  period?: string
  from?: string
  to?: string
  tz?: string
}

const floorTo = (ms: number, step: number) => ms - (((ms % step) + step) % step)
const ceilTo = (ms: number, step: number) => floorTo(ms + step - 1, step)

/** Local midnight (in the viewer's offset) of the day holding `ms`, as UTC ms. */
function localMidnight(ms: number, offsetMs: number): number {
  return floorTo(ms + offsetMs, DAY_MS) - offsetMs
}

/** `YYYY-MM-DD` → UTC ms of that date's midnight, or undefined. */
function parseDay(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  if (!m) return undefined
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  // Date.UTC rolls 2026-02-31 over to March; a date that doesn't round-trip is not a date.
  return new Date(ms).toISOString().startsWith(value) ? ms : undefined
}


/**
 * The span a dashboard page shows, from its query. Days start at the viewer's midnight (tz =
 * minutes east of UTC); rollups are hourly, so bounds are whole UTC hours (half-hour zones see
 * days that start 30 minutes early). The current hour is included.
 * @example parsePeriod({ period: '7d' }, Date.now())
 */
export function parsePeriod(q: PeriodQuery, nowMs: number): Period | { error: string } {
  const tzOffsetMin = q.tz === undefined || q.tz === '' ? 0 : Number(q.tz)
  if (!Number.isInteger(tzOffsetMin) || Math.abs(tzOffsetMin) > MAX_OFFSET_MIN) return { error: `tz must be whole minutes east of UTC, between -${MAX_OFFSET_MIN} and ${MAX_OFFSET_MIN}` }
  const offsetMs = tzOffsetMin * 60_000
  const name = q.period === undefined || q.period === '' ? '7d' : q.period
  const endNow = ceilTo(nowMs + 1, HOUR_MS)
  const today = localMidnight(nowMs, offsetMs)

  let fromMs: number
  let toMs: number
  switch (name) {
    case 'today':
      fromMs = today
      toMs = endNow
      break
    case '7d':
      fromMs = today - 6 * DAY_MS
      toMs = endNow
      break
    case '30d':
      fromMs = today - 29 * DAY_MS
      toMs = endNow
      break
    case 'custom': {
      const from = q.from ? parseDay(q.from) : undefined
      const to = q.to ? parseDay(q.to) : undefined
      if (from === undefined) return { error: 'from must be a date, YYYY-MM-DD' }
      if (to === undefined) return { error: 'to must be a date, YYYY-MM-DD' }
      if (to < from) return { error: 'to must not be before from' }
      if ((to - from) / DAY_MS + 1 > MAX_RANGE_DAYS) return { error: `A custom period is at most ${MAX_RANGE_DAYS} days` }
      fromMs = from - offsetMs
      toMs = to + DAY_MS - offsetMs
      break
    }
    default:
      return { error: 'period must be today, 7d, 30d or custom' }
  }
  fromMs = floorTo(fromMs, HOUR_MS)
  toMs = ceilTo(toMs, HOUR_MS)
  const lastDay = day(toMs - 1, tzOffsetMin)
  const firstDay = day(fromMs + (offsetMs % HOUR_MS === 0 ? 0 : HOUR_MS), tzOffsetMin)
  return {
    name,
    fromMs,
    toMs,
    tzOffsetMin,
    bucket: toMs - fromMs <= 2 * DAY_MS ? 'hour' : 'day',
    label: firstDay === lastDay ? firstDay : `${firstDay} – ${lastDay}`,
  }
}

/** Start of the chart bucket holding `ms` (days at the viewer's midnight). */
export function bucketStart(period: Period, ms: number): number {
  return period.bucket === 'hour' ? floorTo(ms, HOUR_MS) : localMidnight(ms, period.tzOffsetMin * 60_000)
}

/** Every bucket start in the period, so charts show empty hours and days as gaps, not joins. */
export function bucketStarts(period: Period): number[] {
  const step = period.bucket === 'hour' ? HOUR_MS : DAY_MS
  const out: number[] = []
  for (let t = bucketStart(period, period.fromMs); t < period.toMs; t += step) out.push(t)
  return out
}

export const PERIOD_MS = { hour: HOUR_MS, day: DAY_MS } as const
