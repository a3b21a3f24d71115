/**
 * Prints the SQL of the rollup trigger migration (now migrations/0010_usage_rollup_trigger_v2.sql;
 * 0008 was its first version): one trigger that adds every inserted usage row into each rollup
 * table, and the backfill of the tables added since from usage_hourly. Generated because the
 * latency buckets are 48 near-identical columns; if LATENCY_BUCKET_BOUNDS_MS or a rollup table
 * changes, write a new migration with it (it drops and recreates the trigger).
 *   npx tsx scripts/rollup-sql.ts > migrations/NNNN_name.sql
 */
import { LATENCY_BUCKET_BOUNDS_MS, LATENCY_BUCKETS } from '../src/metering/latency-buckets.js'

const HOUR = 'created_at - (created_at % 3600000)'
const DAY = 'created_at - (created_at % 86400000)'

/** A rollup table: its key columns, each with its expression over a usage row (`r.` is added). */
interface Rollup {
  table: string
  key: Array<[column: string, fromUsage: string]>
}

const ROLLUPS: Rollup[] = [
  { table: 'usage_hourly', key: [['team_id', 'team_id'], ['hour_start', HOUR], ['key_id', 'key_id'], ['model', "coalesce(requested_model, '')"], ['backend', "coalesce(backend, '')"], ['host', "coalesce(backend_host, '')"]] },
  { table: 'usage_daily', key: [['team_id', 'team_id'], ['day_start', DAY], ['key_id', 'key_id'], ['model', "coalesce(requested_model, '')"], ['backend', "coalesce(backend, '')"], ['host', "coalesce(backend_host, '')"]] },
  { table: 'usage_team_hourly', key: [['team_id', 'team_id'], ['hour_start', HOUR], ['model', "coalesce(requested_model, '')"], ['backend', "coalesce(backend, '')"]] },
  { table: 'usage_daily_model', key: [['team_id', 'team_id'], ['day_start', DAY], ['model', "coalesce(requested_model, '')"], ['backend', "coalesce(backend, '')"]] },
  { table: 'usage_daily_team', key: [['day_start', DAY], ['team_id', 'team_id'], ['backend', "coalesce(backend, '')"], ['host', "coalesce(backend_host, '')"]] },
]

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

const SUM_COLUMNS = sums('u').map(([c]) => c)

function upsert(t: Rollup): string {
  const keys = t.key.map(([c]) => c)
  return `  INSERT INTO ${t.table} (${[...keys, ...SUM_COLUMNS].join(', ')})
  VALUES (${[...t.key.map(([, e]) => over('new', e)), ...sums('new').map(([, v]) => v)].join(', ')})
  ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${SUM_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')};`
}

/** A table added after usage_hourly, filled from it (its key is a coarsening of hourly's). */
function backfillFromHourly(t: Rollup): string {
  const fromHourly = t.key.map(([c]) => (c === 'day_start' ? 'hour_start - (hour_start % 86400000)' : c))
  return `INSERT INTO ${t.table} (${[...t.key.map(([c]) => c), ...SUM_COLUMNS].join(', ')})
SELECT ${[...fromHourly, ...SUM_COLUMNS.map((c) => `sum(${c})`)].join(', ')}
FROM usage_hourly
GROUP BY ${fromHourly.join(', ')};`
}

const statements = [
  'DROP TRIGGER IF EXISTS usage_rollup;',
  ...ROLLUPS.filter((t) => t.table !== 'usage_hourly').map(backfillFromHourly),
  `CREATE TRIGGER usage_rollup AFTER INSERT ON usage BEGIN\n${ROLLUPS.map(upsert).join('\n')}\nEND;`,
]
console.log(`-- Generated by scripts/rollup-sql.ts: keeps every rollup table as usage rows are inserted.\n${statements.join('\n--> statement-breakpoint\n')}`)
