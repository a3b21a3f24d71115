/**
 * The rollup sums of a batch of usage rows, grouped per rollup table and key, computed here instead of
 * by the trigger: it evaluates every column's expression (48 latency-bucket cases among them) per row
 * and upserts five tables per row, more than half of a file write's cost per row. The sums follow
 * src/db/rollup-sql.ts column by column; a group then costs one upsert per table (groupUpsertSql).
 */
import { latencyBucketOf } from '../metering/latency-buckets.js'
import { ROLLUPS, SUM_COLUMNS, type Rollup } from './rollup-sql.js'
import { USAGE_COLUMNS, type UsageArg } from './usage-insert.js'

/** One group of a rollup table: its key columns' values, then the sums in SUM_COLUMNS order. */
export interface RollupGroup {
  key: UsageArg[]
  sums: number[]
}

/** Every rollup table with its groups. */
export type RollupSums = Array<{ table: Rollup; groups: RollupGroup[] }>

/** A sum past 2^53, where doubles stop being exact. */
export class RollupSumOverflow extends RangeError {}

function indexIn(list: readonly string[], name: string): number {
  const i = list.indexOf(name)
  if (i < 0) throw new Error(`rollup-batch: no column ${name}`)
  return i
}

const col = (name: string) => indexIn(USAGE_COLUMNS, name)
const U = {
  team: col('team_id'), key: col('key_id'), created: col('created_at'), model: col('requested_model'), backend: col('backend'), host: col('backend_host'),
  status: col('status'), fellBack: col('fell_back'), clientAborted: col('client_aborted'), busy: col('busy_ms'), latency: col('latency_ms'), ttft: col('ttft_ms'), completion: col('completion_tokens'),
}
const sum = (name: string) => indexIn(SUM_COLUMNS, name)
const S = {
  requests: sum('requests'), errors: sum('errors'), fallbacks: sum('fallbacks'), clientAborts: sum('client_aborts'), busy: sum('busy_ms'), latency: sum('latency_ms_sum'),
  ttft: sum('ttft_ms_sum'), ttftCount: sum('ttft_count'), decodeTokens: sum('decode_tokens'), decodeMs: sum('decode_ms'), lat0: sum('lat_0'), ttft0: sum('ttft_0'),
}
/** Columns summed as stored: [usage column, sum column]. */
const PLAIN = ['prompt_tokens', 'cache_hit_tokens', 'cache_miss_tokens', 'completion_tokens', 'reasoning_tokens', 'cost_nano_usd', 'local_cost_nano_usd', 'hosted_equiv_nano_usd'].map((c) => [col(c), sum(c)] as const)

/** Adds one stored row into `s`, as each sum column's SQL expression would. */
function addRow(s: number[], r: readonly UsageArg[]): void {
  const status = r[U.status] as number
  const latency = r[U.latency] as number
  const ttft = r[U.ttft] as number | null
  s[S.requests]! += 1
  if (status >= 400) s[S.errors]! += 1
  if (r[U.fellBack]) s[S.fallbacks]! += 1
  if (r[U.clientAborted]) s[S.clientAborts]! += 1
  for (const [from, to] of PLAIN) s[to]! += r[from] as number
  s[S.busy]! += (r[U.busy] as number | null) ?? 0
  s[S.latency]! += latency
  s[S.lat0 + latencyBucketOf(latency)]! += 1
  if (ttft !== null) {
    s[S.ttft]! += ttft
    s[S.ttftCount]! += 1
    s[S.ttft0 + latencyBucketOf(ttft)]! += 1
    const completion = r[U.completion] as number
    if (r[U.backend] === 'local' && status === 200 && completion > 1 && latency > ttft) {
      s[S.decodeTokens]! += completion - 1
      s[S.decodeMs]! += latency - ttft
    }
  }
}

/** The finest key (usage_hourly's dimensions), from which every table's key follows. */
interface FineKey { team_id: UsageArg; hour_start: number; key_id: UsageArg; model: UsageArg; backend: UsageArg; host: UsageArg }

const KEY_COLUMN: Record<string, (k: FineKey) => UsageArg> = {
  team_id: (k) => k.team_id,
  hour_start: (k) => k.hour_start,
  day_start: (k) => k.hour_start - (k.hour_start % 86_400_000),
  key_id: (k) => k.key_id,
  model: (k) => k.model,
  backend: (k) => k.backend,
  host: (k) => k.host,
}
const TABLE_KEYS = ROLLUPS.map((t) => t.key.map(([c]) => KEY_COLUMN[c] ?? ((): never => { throw new Error(`rollup-batch: no key rule for ${t.table}.${c}`) })))

function fineKey(r: readonly UsageArg[]): FineKey {
  const created = r[U.created] as number
  return { team_id: r[U.team]!, hour_start: created - (created % 3_600_000), key_id: r[U.key]!, model: r[U.model] ?? '', backend: r[U.backend] ?? '', host: r[U.host] ?? '' }
}

/**
 * Per rollup table, `rows` (stored values in USAGE_COLUMNS order) summed per key; undefined as soon as
 * they fall into more than `maxFineGroups` hourly groups (not worth summing). Throws when a sum leaves
 * the range where doubles are exact (the caller then lets the trigger add the rows one by one).
 */
export function rollupGroups(rows: readonly (readonly UsageArg[])[], maxFineGroups = Infinity): RollupSums | undefined {
  const fine = new Map<string, { key: FineKey; sums: number[] }>()
  for (const r of rows) {
    const key = fineKey(r)
    const id = JSON.stringify([key.team_id, key.hour_start, key.key_id, key.model, key.backend, key.host])
    let group = fine.get(id)
    if (!group) {
      if (fine.size >= maxFineGroups) return undefined
      fine.set(id, (group = { key, sums: new Array<number>(SUM_COLUMNS.length).fill(0) }))
    }
    addRow(group.sums, r)
  }
  return ROLLUPS.map((table, t) => {
    const groups = new Map<string, RollupGroup>()
    for (const { key, sums } of fine.values()) {
      const values = TABLE_KEYS[t]!.map((of) => of(key))
      const id = JSON.stringify(values)
      const group = groups.get(id)
      if (!group) groups.set(id, { key: values, sums: [...sums] })
      else for (let i = 0; i < sums.length; i++) group.sums[i]! += sums[i]!
    }
    for (const group of groups.values()) if (!group.sums.every(Number.isSafeInteger)) throw new RollupSumOverflow(`rollup-batch: a ${table.table} sum is past 2^53`)
    return { table, groups: [...groups.values()] }
  })
}
