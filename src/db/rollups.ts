import { sql, type SQL } from 'drizzle-orm'
import { LATENCY_BUCKETS } from '../metering/latency-buckets.js'
import type { GatewayDb } from './client.js'
import { DAY_MS, planRollup, type RollupDimension, type RollupSource } from './rollup-plan.js'

export type { RollupDimension } from './rollup-plan.js'

/** What a rollup query covers: one team (or all, for gateway admins) in [fromMs, toMs), whole hours. */
export interface RollupScope {
  /** undefined: every team (the admin view). */
  teamId?: string
  fromMs: number
  toMs: number
  keyId?: string
  model?: string
  backend?: string
  /** Lets the day `toMs` cuts be read whole when toMs is in the future (src/db/rollup-plan.ts). */
  nowMs?: number
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

const COLUMN: Record<RollupDimension, string> = { team: 'team_id', key: 'key_id', model: 'model', backend: 'backend', host: 'host' }

/** Stored columns every rollup table has, summed as they are. */
const SUMMED: Array<[name: keyof RollupSums | string, column: string]> = [
  ['requests', 'requests'], ['errors', 'errors'], ['fallbacks', 'fallbacks'], ['clientAborts', 'client_aborts'],
  ['promptTokens', 'prompt_tokens'], ['cacheHitTokens', 'cache_hit_tokens'], ['cacheMissTokens', 'cache_miss_tokens'],
  ['completionTokens', 'completion_tokens'], ['reasoningTokens', 'reasoning_tokens'], ['costNanoUsd', 'cost_nano_usd'],
  ['localCostNanoUsd', 'local_cost_nano_usd'], ['busyMs', 'busy_ms'], ['decodeTokens', 'decode_tokens'], ['decodeMs', 'decode_ms'],
  ...Array.from({ length: LATENCY_BUCKETS }, (_, i): [string, string] => [`lat${i}`, `lat_${i}`]),
  ...Array.from({ length: LATENCY_BUCKETS }, (_, i): [string, string] => [`ttft${i}`, `ttft_${i}`]),
]
const HISTOGRAM = /^(lat|ttft)_\d+$/
const innerColumns = (histograms: boolean) => [...SUMMED.map(([, c]) => c).filter((c) => histograms || !HISTOGRAM.test(c)), 'hosted_equiv_nano_usd'].join(', ')
const outerSums = (histograms: boolean) => [
  ...SUMMED.filter(([, c]) => histograms || !HISTOGRAM.test(c)).map(([name, c]) => `coalesce(sum(${c}), 0) as "${name}"`),
  `coalesce(sum(case when backend = 'local' then requests else 0 end), 0) as "localRequests"`,
  `coalesce(sum(case when backend = 'hosted' then requests else 0 end), 0) as "hostedRequests"`,
  `coalesce(sum(case when backend = 'local' then hosted_equiv_nano_usd else 0 end), 0) as "localHostedEquivNanoUsd"`,
].join(', ')
/** The two select lists, with and without the 48 histogram columns (two thirds of a row's sums). */
const INNER = { true: innerColumns(true), false: innerColumns(false) }
const OUTER = { true: outerSums(true), false: outerSums(false) }

function sumsOf(row: Record<string, unknown>): RollupSums {
  const n = (name: string) => Number(row[name] ?? 0)
  const hist = (prefix: string) => (`${prefix}0` in row ? Array.from({ length: LATENCY_BUCKETS }, (_, i) => n(`${prefix}${i}`)) : [])
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

/** The filters' dimensions plus `extra`; backend always (local and hosted are summed apart). */
function dimsOf(scope: RollupScope, extra: readonly RollupDimension[]): Set<RollupDimension> {
  const dims = new Set<RollupDimension>(['backend', ...extra])
  if (scope.teamId !== undefined) dims.add('team')
  if (scope.keyId !== undefined) dims.add('key')
  if (scope.model !== undefined) dims.add('model')
  return dims
}

/** One source's rows, as `t` (its time) and the needed dimensions and sums, filtered. */
function sourceSelect(source: RollupSource, scope: RollupScope, dims: ReadonlySet<RollupDimension>, histograms: boolean): SQL {
  const { table } = source
  const filters: SQL[] = [sql`${sql.raw(table.time)} >= ${source.fromMs}`, sql`${sql.raw(table.time)} < ${source.toMs}`]
  if (scope.teamId !== undefined) filters.push(sql`team_id = ${scope.teamId}`)
  if (scope.keyId !== undefined) filters.push(sql`key_id = ${scope.keyId}`)
  if (scope.model !== undefined) filters.push(sql`model = ${scope.model}`)
  if (scope.backend !== undefined) filters.push(sql`backend = ${scope.backend}`)
  const columns = [`${table.time} as t`, ...[...dims].map((d) => COLUMN[d]), INNER[`${histograms}`]].join(', ')
  return sql`select ${sql.raw(columns)} from ${sql.raw(table.name)} where ${sql.join(filters, sql` and `)}`
}

/** Sums grouped by `groups` (SQL over t and the dimension columns) from the planned sources. */
async function query(db: GatewayDb, scope: RollupScope, opts: { dims: readonly RollupDimension[]; hourly: boolean; groups: Array<[alias: string, expr: string]>; orderBy?: string; histograms?: boolean }): Promise<Array<Record<string, unknown>>> {
  const histograms = opts.histograms ?? true
  const dims = dimsOf(scope, opts.dims)
  const sources = planRollup({ fromMs: scope.fromMs, toMs: scope.toMs, nowMs: scope.nowMs, dims, hourly: opts.hourly })
  const union = sql.join(sources.map((s) => sourceSelect(s, scope, dims, histograms)), sql` union all `)
  const select = [...opts.groups.map(([alias, expr]) => `${expr} as "${alias}"`), OUTER[`${histograms}`]].join(', ')
  const groupBy = opts.groups.length > 0 ? ` group by ${opts.groups.map((_, i) => i + 1).join(', ')}` : ''
  const orderBy = opts.orderBy ? ` order by ${opts.orderBy}` : ''
  return db.all<Record<string, unknown>>(sql`select ${sql.raw(select)} from (${union})${sql.raw(groupBy + orderBy)}`)
}

export async function rollupTotals(db: GatewayDb, scope: RollupScope): Promise<RollupSums> {
  const [row] = await query(db, scope, { dims: [], hourly: false, groups: [] })
  return row ? sumsOf(row) : EMPTY_SUMS
}

/**
 * Sums per value of one dimension (e.g. per key), largest request count first. Without
 * `histograms` the latency buckets are left out (empty): for tables that show no percentile.
 */
export async function rollupBy(db: GatewayDb, scope: RollupScope, dimension: RollupDimension, opts: { histograms?: boolean } = {}): Promise<Array<RollupSums & { value: string }>> {
  const column = COLUMN[dimension]
  const rows = await query(db, scope, { dims: [dimension], hourly: false, groups: [['value', column]], orderBy: `"requests" desc, 1`, histograms: opts.histograms })
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
  const shift = bucket.bucketMs >= DAY_MS ? bucket.offsetMs : 0
  const start = `(t + ${shift}) - ((t + ${shift}) % ${bucket.bucketMs}) - ${shift}`
  // Daily rows only serve day buckets that start at UTC midnight.
  const hourly = bucket.bucketMs < DAY_MS || shift % DAY_MS !== 0
  const groups: Array<[string, string]> = [['startMs', start], ...dims.map((d): [string, string] => [`dim_${d}`, COLUMN[d]])]
  const rows = await query(db, scope, { dims, hourly, groups, orderBy: groups.map((_, i) => i + 1).join(', ') })
  return rows.map((r) => ({
    ...sumsOf(r),
    startMs: Number(r.startMs),
    dims: Object.fromEntries(dims.map((d) => [d, String(r[`dim_${d}`])])),
  }))
}

/** Models a team used in the range (for the filter's choices). */
export async function rollupModels(db: GatewayDb, scope: RollupScope): Promise<string[]> {
  const rows = await rollupBy(db, scope, 'model', { histograms: false })
  return rows.map((r) => r.value).filter((m) => m !== '').sort()
}
