import { and, eq, gte, lt, sql, type SQL } from 'drizzle-orm'
import { LATENCY_BUCKETS } from '../metering/latency-buckets.js'
import type { Period, ReportFilter, ReportTotals } from '../dashboard/report-types.js'
import { reportTotals } from '../dashboard/totals.js'
import type { GatewayDb } from './client.js'
import { usageHourly } from './schema.js'

/** What a rollup query covers: one team (or all, for gateway admins) in [fromMs, toMs), whole hours. */
export interface RollupScope {
  /** undefined: every team (the admin view). */
  teamId?: string
  fromMs: number
  toMs: number
  keyId?: string
  model?: string
  backend?: string
}

/** Raw sums of a group of rollup rows, as stored: integers, histograms as bucket counts. */
export interface RollupSums {
  requests: number
  errors: number
  fallbacks: number
  clientAborts: number
  localRequests: number
  hostedRequests: number
  promptTokens: number
  cacheHitTokens: number
  cacheMissTokens: number
  completionTokens: number
  reasoningTokens: number
  costNanoUsd: number
  localCostNanoUsd: number
  /** Hosted-equivalent of local rows only: what local traffic would have cost on the API. */
  localHostedEquivNanoUsd: number
  busyMs: number
  decodeTokens: number
  decodeMs: number
  latency: number[]
  ttft: number[]
}

const h = usageHourly
const sumOf = (expr: SQL | SQL.Aliased | typeof h.requests) => sql<number>`coalesce(sum(${expr}), 0)`.mapWith(Number)
const ifLocal = (expr: SQL | typeof h.requests) => sql`case when ${h.backend} = 'local' then ${expr} else 0 end`

/** The select list every rollup query shares; histogram columns by position. */
function sumColumns() {
  const cols: Record<string, SQL<number>> = {
    requests: sumOf(h.requests),
    errors: sumOf(h.errors),
    fallbacks: sumOf(h.fallbacks),
    clientAborts: sumOf(h.clientAborts),
    localRequests: sumOf(ifLocal(h.requests)),
    hostedRequests: sumOf(sql`case when ${h.backend} = 'hosted' then ${h.requests} else 0 end`),
    promptTokens: sumOf(h.promptTokens),
    cacheHitTokens: sumOf(h.cacheHitTokens),
    cacheMissTokens: sumOf(h.cacheMissTokens),
    completionTokens: sumOf(h.completionTokens),
    reasoningTokens: sumOf(h.reasoningTokens),
    costNanoUsd: sumOf(h.costNanoUsd),
    localCostNanoUsd: sumOf(h.localCostNanoUsd),
    localHostedEquivNanoUsd: sumOf(ifLocal(h.hostedEquivNanoUsd)),
    busyMs: sumOf(h.busyMs),
    decodeTokens: sumOf(h.decodeTokens),
    decodeMs: sumOf(h.decodeMs),
  }
  for (let i = 0; i < LATENCY_BUCKETS; i++) {
    cols[`lat${i}`] = sumOf(sql.raw(`lat_${i}`))
    cols[`ttft${i}`] = sumOf(sql.raw(`ttft_${i}`))
  }
  return cols
}

const SUMS = sumColumns()

function sumsOf(row: Record<string, unknown>): RollupSums {
  const n = (name: string) => Number(row[name] ?? 0)
  const hist = (prefix: string) => Array.from({ length: LATENCY_BUCKETS }, (_, i) => n(`${prefix}${i}`))
  return {
    requests: n('requests'),
    errors: n('errors'),
    fallbacks: n('fallbacks'),
    clientAborts: n('clientAborts'),
    localRequests: n('localRequests'),
    hostedRequests: n('hostedRequests'),
    promptTokens: n('promptTokens'),
    cacheHitTokens: n('cacheHitTokens'),
    cacheMissTokens: n('cacheMissTokens'),
    completionTokens: n('completionTokens'),
    reasoningTokens: n('reasoningTokens'),
    costNanoUsd: n('costNanoUsd'),
    localCostNanoUsd: n('localCostNanoUsd'),
    localHostedEquivNanoUsd: n('localHostedEquivNanoUsd'),
    busyMs: n('busyMs'),
    decodeTokens: n('decodeTokens'),
    decodeMs: n('decodeMs'),
    latency: hist('lat'),
    ttft: hist('ttft'),
  }
}

export const EMPTY_SUMS: RollupSums = sumsOf({})

function whereOf(scope: RollupScope): SQL | undefined {
  return and(
    scope.teamId !== undefined ? eq(h.teamId, scope.teamId) : undefined,
    gte(h.hourStart, scope.fromMs),
    lt(h.hourStart, scope.toMs),
    scope.keyId !== undefined ? eq(h.keyId, scope.keyId) : undefined,
    scope.model !== undefined ? eq(h.model, scope.model) : undefined,
    scope.backend !== undefined ? eq(h.backend, scope.backend) : undefined,
  )
}

export async function rollupTotals(db: GatewayDb, scope: RollupScope): Promise<RollupSums> {
  const rows = await db.select(SUMS).from(h).where(whereOf(scope))
  return rows[0] ? sumsOf(rows[0]) : EMPTY_SUMS
}

/** Groupable parts of a rollup row. */
export const ROLLUP_DIMENSIONS = { team: h.teamId, key: h.keyId, model: h.model, backend: h.backend, host: h.host } as const
export type RollupDimension = keyof typeof ROLLUP_DIMENSIONS

/** Sums per value of one dimension (e.g. per key), largest request count first. */
export async function rollupBy(db: GatewayDb, scope: RollupScope, dimension: RollupDimension): Promise<Array<RollupSums & { value: string }>> {
  const column = ROLLUP_DIMENSIONS[dimension]
  const rows = await db
    .select({ value: column, ...SUMS })
    .from(h)
    .where(whereOf(scope))
    .groupBy(column)
    .orderBy(sql`requests desc`, column)
  return rows.map((r) => ({ ...sumsOf(r), value: String(r.value) }))
}

/**
 * Sums per time bucket and per value of `dims` (default: backend). Buckets are `bucketMs` long
 * and start at the viewer's midnight (`offsetMs` east of UTC); hour buckets ignore the offset.
 */
export async function rollupSeries(
  db: GatewayDb,
  scope: RollupScope,
  bucket: { bucketMs: number; offsetMs: number },
  dims: readonly RollupDimension[] = ['backend'],
): Promise<Array<RollupSums & { startMs: number; dims: Record<string, string> }>> {
  const shift = bucket.bucketMs >= 86_400_000 ? bucket.offsetMs : 0
  const start = sql<number>`(${h.hourStart} + ${shift}) - ((${h.hourStart} + ${shift}) % ${bucket.bucketMs}) - ${shift}`.mapWith(Number)
  const dimCols = Object.fromEntries(dims.map((d) => [`dim_${d}`, ROLLUP_DIMENSIONS[d]]))
  const groups = [sql`1`, ...dims.map((d) => ROLLUP_DIMENSIONS[d])]
  const rows = await db
    .select({ startMs: start, ...dimCols, ...SUMS })
    .from(h)
    .where(whereOf(scope))
    .groupBy(...groups)
    .orderBy(...groups)
  return rows.map((r) => ({
    ...sumsOf(r),
    startMs: Number(r.startMs),
    dims: Object.fromEntries(dims.map((d) => [d, String((r as Record<string, unknown>)[`dim_${d}`])])),
  }))
}

/** Models a team used in the range (for the filter's choices). */
export async function rollupModels(db: GatewayDb, scope: RollupScope): Promise<string[]> {
  const rows = await db.selectDistinct({ model: h.model }).from(h).where(whereOf(scope)).orderBy(h.model)
  return rows.map((r) => r.model).filter((m) => m !== '')
}

/** Per day (viewer's midnight), backend and model: the daily CSV export's rows, oldest first. */
export async function dailyRollups(db: GatewayDb, q: { teamId: string; period: Period; filter: ReportFilter }): Promise<Array<{ dayStartMs: number; backend: string; model: string } & ReportTotals>> {
  const rows = await rollupSeries(
    db,
    { teamId: q.teamId, fromMs: q.period.fromMs, toMs: q.period.toMs, ...q.filter },
    { bucketMs: 86_400_000, offsetMs: q.period.tzOffsetMin * 60_000 },
    ['backend', 'model'],
  )
  return rows.map((r) => ({ dayStartMs: r.startMs, backend: r.dims.backend ?? '', model: r.dims.model ?? '', ...reportTotals(r) }))
}
