/**
 * What every rollup table sums from a usage row, as SQL: the trigger's statements (printed into
 * migrations by scripts/rollup-sql.ts) and the upsert that adds a group of rows summed elsewhere
 * (src/db/rollup-batch.ts, for the usage file writer). Generated because the latency buckets are 48
 * near-identical columns. rollup-batch.ts computes the same sums in JavaScript, in SUM_COLUMNS order;
 * test/node/usage-file-inserter.test.ts checks that both give the same tables.
 */
import { LATENCY_BUCKET_BOUNDS_MS, LATENCY_BUCKETS } from '../metering/latency-buckets.js'

const HOUR = 'created_at - (created_at % 3600000)'
const DAY = 'created_at - (created_at % 86400000)'

/** A rollup table: its key columns, each with its expression over a usage row (`r.` is added). */
export interface Rollup {
  table: string
  key: Array<[column: string, fromUsage: string]>
}

export const ROLLUPS: readonly Rollup[] = [
  { table: 'usage_hourly', key: [['team_id', 'team_id'], ['hour_start', HOUR], ['key_id', 'key_id'], ['model', "coalesce(requested_model, '')"], ['backend', "coalesce(backend, '')"], ['host', "coalesce(backend_host, '')"]] },
  { table: 'usage_daily', key: [['team_id', 'team_id'], ['day_start', DAY], ['key_id', 'key_id'], ['model', "coalesce(requested_model, '')"], ['backend', "coalesce(backend, '')"], ['host', "coalesce(backend_host, '')"]] },
  { table: 'usage_team_hourly', key: [['team_id', 'team_id'], ['hour_start', HOUR], ['model', "coalesce(requested_model, '')"], ['backend', "coalesce(backend, '')"]] },
  { table: 'usage_daily_model', key: [['team_id', 'team_id'], ['day_start', DAY], ['model', "coalesce(requested_model, '')"], ['backend', "coalesce(backend, '')"]] },
  { table: 'usage_daily_team', key: [['day_start', DAY], ['team_id', 'team_id'], ['backend', "coalesce(backend, '')"], ['host', "coalesce(backend_host, '')"]] },
]

/**
 * While this table holds a row, the trigger leaves inserted rows to their writer. Only a writer's open
 * transaction ever holds one: SQLite has one writer at a time, so no other connection's insert sees it.
 */
export const ROLLUP_DEFERRED_TABLE = 'usage_rollup_deferred'

/** Prefixes the usage columns of an expression with `r.`. */
const over = (r: string, expr: string) => expr.replace(/\b(created_at|team_id|key_id|requested_model|backend_host|backend)\b/g, `${r}.$1`)

function inBucket(value: string, i: number): string {
  const lower = i === 0 ? undefined : LATENCY_BUCKET_BOUNDS_MS[i - 1]
  const upper = LATENCY_BUCKET_BOUNDS_MS[i]
  const parts = [`${value} is not null`]
  if (lower !== undefined) parts.push(`${value} >= ${lower}`)
  if (upper !== undefined) parts.push(`${value} < ${upper}`)
  return `(case when ${parts.join(' and ')} then 1 else 0 end)`
}

/** [column, per-row value] for every summed column. */
function sums(r: string): [string, string][] {
  const decoding = `${r}.backend = 'local' and ${r}.status = 200 and ${r}.ttft_ms is not null and ${r}.completion_tokens > 1 and ${r}.latency_ms > ${r}.ttft_ms`
  const cols: [string, string][] = [
    ['requests', '1'],
    ['errors', `(case when ${r}.status >= 400 then 1 else 0 end)`],
    ['fallbacks', `(case when ${r}.fell_back then 1 else 0 end)`],
    ['client_aborts', `(case when ${r}.client_aborted then 1 else 0 end)`],
    ['prompt_tokens', `${r}.prompt_tokens`],
    ['cache_hit_tokens', `${r}.cache_hit_tokens`],
    ['cache_miss_tokens', `${r}.cache_miss_tokens`],
    ['completion_tokens', `${r}.completion_tokens`],
    ['reasoning_tokens', `${r}.reasoning_tokens`],
    ['cost_nano_usd', `${r}.cost_nano_usd`],
    ['local_cost_nano_usd', `${r}.local_cost_nano_usd`],
    ['hosted_equiv_nano_usd', `${r}.hosted_equiv_nano_usd`],
    ['busy_ms', `coalesce(${r}.busy_ms, 0)`],
    ['latency_ms_sum', `${r}.latency_ms`],
    ['ttft_ms_sum', `coalesce(${r}.ttft_ms, 0)`],
    ['ttft_count', `(case when ${r}.ttft_ms is not null then 1 else 0 end)`],
    ['decode_tokens', `(case when ${decoding} then ${r}.completion_tokens - 1 else 0 end)`],
    ['decode_ms', `(case when ${decoding} then ${r}.latency_ms - ${r}.ttft_ms else 0 end)`],
  ]
  for (let i = 0; i < LATENCY_BUCKETS; i++) cols.push([`lat_${i}`, inBucket(`${r}.latency_ms`, i)])
  for (let i = 0; i < LATENCY_BUCKETS; i++) cols.push([`ttft_${i}`, inBucket(`${r}.ttft_ms`, i)])
  return cols
}

export const SUM_COLUMNS: readonly string[] = sums('u').map(([c]) => c)

const columnList = (t: Rollup) => [...t.key.map(([c]) => c), ...SUM_COLUMNS].join(', ')
const addOnConflict = (t: Rollup) => `ON CONFLICT (${t.key.map(([c]) => c).join(', ')}) DO UPDATE SET ${SUM_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`

/** The trigger's statement for `t`: one inserted row (`new`) added in. */
function rowUpsert(t: Rollup): string {
  return `  INSERT INTO ${t.table} (${columnList(t)})
  VALUES (${[...t.key.map(([, e]) => over('new', e)), ...sums('new').map(([, v]) => v)].join(', ')})
  ${addOnConflict(t)};`
}

/** Adds one group, summed by the caller: its key's values, then SUM_COLUMNS', as parameters. */
export function groupUpsertSql(t: Rollup): string {
  return `INSERT INTO ${t.table} (${columnList(t)}) VALUES (${[...t.key, ...SUM_COLUMNS].map(() => '?').join(', ')}) ${addOnConflict(t)}`
}

/** The trigger: each inserted row into every rollup table, unless a writer deferred it. */
export function rollupTriggerSql(): string {
  return `CREATE TRIGGER usage_rollup AFTER INSERT ON usage WHEN NOT EXISTS (SELECT 1 FROM ${ROLLUP_DEFERRED_TABLE}) BEGIN\n${ROLLUPS.map(rowUpsert).join('\n')}\nEND;`
}
