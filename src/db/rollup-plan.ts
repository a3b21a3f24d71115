/**
 * Which rollup tables answer a query. Each usage row is summed into five tables (by the trigger in
 * migrations/0011, or summed per key by the file writer, src/db/rollup-batch.ts): per hour and per UTC day with every dimension, per hour without key and host,
 * per day without key and host, and per day without key and model. A query reads the coarsest tables that still have its
 * dimensions: whole UTC days from a daily table, the hours at either end from an hourly one, so
 * any range of whole hours is exact in any time zone, and a month is a few thousand rows.
 */

export type RollupDimension = 'team' | 'key' | 'model' | 'backend' | 'host'

export interface RollupTable {
  name: string
  time: 'hour_start' | 'day_start'
  dims: readonly RollupDimension[]
}

const HOURLY: RollupTable = { name: 'usage_hourly', time: 'hour_start', dims: ['team', 'key', 'model', 'backend', 'host'] }
const DAILY: RollupTable = { name: 'usage_daily', time: 'day_start', dims: ['team', 'key', 'model', 'backend', 'host'] }
const TEAM_HOURLY: RollupTable = { name: 'usage_team_hourly', time: 'hour_start', dims: ['team', 'model', 'backend'] }
const DAILY_TEAM: RollupTable = { name: 'usage_daily_team', time: 'day_start', dims: ['team', 'backend', 'host'] }
const DAILY_MODEL: RollupTable = { name: 'usage_daily_model', time: 'day_start', dims: ['team', 'model', 'backend'] }

/** Smallest first: the first that has every dimension a query needs is the one it reads. */
const HOURLY_TABLES = [TEAM_HOURLY, HOURLY]
const DAILY_TABLES = [DAILY_TEAM, DAILY_MODEL, DAILY]

export const DAY_MS = 86_400_000

/** One part of a query: a table over [fromMs, toMs) of its time column. */
export interface RollupSource {
  table: RollupTable
  fromMs: number
  toMs: number
}

const floorDay = (ms: number) => ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS)
const ceilDay = (ms: number) => floorDay(ms + DAY_MS - 1)

function smallest(tables: readonly RollupTable[], dims: ReadonlySet<RollupDimension>): RollupTable {
  const table = tables.find((t) => [...dims].every((d) => t.dims.includes(d)))
  // The last of each list has every dimension.
  return table ?? (tables[tables.length - 1] as RollupTable)
}

/**
 * The sources covering [fromMs, toMs) (whole hours) with `dims`. `hourly`: the query buckets by
 * hour, or by days that don't start at UTC midnight, so it cannot read daily rows. A day that
 * `toMs` cuts counts as whole when toMs is after `nowMs`: no row is newer than now.
 */
export function planRollup(q: { fromMs: number; toMs: number; nowMs?: number; dims: ReadonlySet<RollupDimension>; hourly: boolean }): RollupSource[] {
  const hourlyTable = smallest(HOURLY_TABLES, q.dims)
  if (q.hourly) return [{ table: hourlyTable, fromMs: q.fromMs, toMs: q.toMs }]
  const firstDay = ceilDay(q.fromMs)
  const endDay = q.nowMs !== undefined && q.toMs > q.nowMs ? ceilDay(q.toMs) : floorDay(q.toMs)
  if (firstDay >= endDay) return [{ table: hourlyTable, fromMs: q.fromMs, toMs: q.toMs }]
  const sources: RollupSource[] = [{ table: smallest(DAILY_TABLES, q.dims), fromMs: firstDay, toMs: endDay }]
  if (q.fromMs < firstDay) sources.push({ table: hourlyTable, fromMs: q.fromMs, toMs: firstDay })
  if (endDay < q.toMs) sources.push({ table: hourlyTable, fromMs: endDay, toMs: q.toMs })
  return sources
}
