/**
 * Builds (or reuses) the dashboard benchmark's libSQL file: the gateway's migrations, the teams
 * and keys of bench/dashboard/shape.ts, and `rows` usage rows generated inside SQLite, one
 * INSERT…SELECT over a recursive CTE per 50k-row chunk (its own transaction), so 10M rows never
 * cross into JavaScript. The file is cached under bench/out/, keyed by row count, a hash
 * of migrations/ and GENERATOR_VERSION; its `.json` sidecar, written last, marks it complete.
 */
import type { Client, InStatement } from '@libsql/client'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MIGRATIONS_DIR, openNodeDb } from '../../src/node/open-db.js'
import { BENCH_HOSTS, BENCH_MODELS, benchHours, benchTeams, KEY_SLOTS, slotsFor, TEAM_SLOTS } from './shape.js'

/** Bump when the generated rows change, so cached files are rebuilt. */
export const GENERATOR_VERSION = 2
const HOUR_MS = 3_600_000
/** Rows of the trial that picks the faster way to build usage_hourly. */
export const TRIAL_ROWS = 200_000

/** How usage_hourly is built while generating: (a) the insert trigger row by row, (b) the migration's backfill once at the end. */
export type RollupMethod = 'trigger' | 'backfill'

export interface GeneratedDb {
  path: string
  url: string
  rows: number
  /** Start of the last generated hour; the benchmark's clock reads half past it. */
  endHourMs: number
  method: RollupMethod
  generationSeconds: number
  /** Rows/s of each method on TRIAL_ROWS rows, when it was generated with a trial. */
  trial?: Record<RollupMethod, number>
  reused: boolean
  /** Set when an earlier build was brought up to date by the gateway's own migrations, as a deployment would be. */
  upgrade?: { fromKey: string; seconds: number }
  generatorVersion?: number
}

/** sha256 over every file under migrations/ (names and contents), so a schema change invalidates the cache. */
function migrationsHash(): string {
  const hash = createHash('sha256')
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else hash.update(`${path.slice(MIGRATIONS_DIR.length)}\0`).update(readFileSync(path)).update('\0')
    }
  }
  walk(MIGRATIONS_DIR)
  return hash.digest('hex')
}

/**
 * What the migrations do for rows that exist before the trigger does: every rollup backfill (in
 * migration order; later ones fill from usage_hourly) and the newest CREATE TRIGGER usage_rollup.
 */
export function rollupStatements(): { backfill: string[]; trigger: string } {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort()
  const statements = files.flatMap((f) => readFileSync(join(MIGRATIONS_DIR, f), 'utf8').split('--> statement-breakpoint').map((s) => s.replace(/^--.*$/gm, '').trim()))
  const backfill = statements.filter((s) => /^INSERT INTO usage_(hourly|daily|team_hourly|daily_team)\b/.test(s))
  const trigger = statements.filter((s) => s.startsWith('CREATE TRIGGER usage_rollup')).at(-1)
  if (backfill.length === 0 || !trigger) throw new Error('migrations/ no longer hold the rollup backfills and CREATE TRIGGER usage_rollup this benchmark reuses')
  return { backfill, trigger }
}

// MINSTD (Park-Miller, prime modulus 2^31-1): unlike a power-of-two modulus its low bits are as
// random as its high ones, and every product stays below 2^62, inside SQLite's 64-bit integers.
const LCG_A = 48271n
const LCG_C = 0n
const LCG_M = 2n ** 31n - 1n
/** Random draws per row (r1..r17); the state advances RANDOMS + 1 steps per row. */
const RANDOMS = 17

/** Constants of the LCG applied k times: x -> (a*x + c) mod m. */
function lcgPower(k: number): { a: bigint; c: bigint } {
  let a = 1n
  let c = 0n
  for (let i = 0; i < k; i++) {
    a = (a * LCG_A) % LCG_M
    c = (c * LCG_A + LCG_C) % LCG_M
  }
  return { a, c }
}

/** Rows per generating statement (and transaction). */
const CHUNK_ROWS = 50_000

/** A seed in [1, 2^31-2] per chunk, so each chunk's rows are reproducible on their own. */
function chunkSeed(chunk: number): number {
  let x = (chunk + 0x9e37) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0
  return 1 + (((x ^ (x >>> 16)) >>> 0) % 0x7ffffffe)
}

const caseOf = (expr: string, values: readonly (string | number)[]) =>
  `CASE ${expr} ${values.map((v, i) => `WHEN ${i} THEN ${typeof v === 'string' ? `'${v}'` : v}`).join(' ')} END`

/**
 * Usage rows [:row_lo, :row_hi) in one statement. Row n falls in the hour of bench_hours whose
 * first_row is the largest <= n, spread evenly over it; r1..r17 are independent 16-bit draws of
 * the row's LCG state. libSQL binds JS numbers as REAL: the CASTs keep n, s and every time
 * derived from them integers (a REAL created_at would give each row its own rollup hour). Three MATERIALIZED layers compute each derived column once (a flattened
 * CTE would copy every CASE into each place it is used). Shares: errors 5% (429 before routing
 * 2%, 502 1.5%, 503 1%, 500 0.5%), local ~52% with ~2.6% fallbacks, 70% streamed, 0.8% client
 * aborts; hosted prices per model, doubled in DeepSeek's peak hours.
 */
export function chunkInsertSql(): string {
  const step = lcgPower(RANDOMS + 1)
  const r = (k: number) => {
    const p = lcgPower(k)
    return `(((${p.a} * s + ${p.c}) % ${LCG_M}) >> 15)`
  }
  const later = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
  const modelCut = BENCH_MODELS.map((_, i) => BENCH_MODELS.slice(0, i + 1).reduce((a, m) => a + m.share, 0))
  const hostCut = BENCH_HOSTS.map((_, i) => BENCH_HOSTS.slice(0, i + 1).reduce((a, h) => a + h.sharePct, 0))
  const model = (field: keyof (typeof BENCH_MODELS)[number]) => caseOf('m', BENCH_MODELS.map((x) => x[field]))
  const wantLocal = `(r6 % 100 < ${model('localPct')})`
  const fellBack = `(status <> 429 AND ((${wantLocal} AND r7 % 1000 < 40) OR (NOT ${wantLocal} AND r7 % 1000 < 10)))`
  const keep = 'n, team_index, team_id, key_id, created_at, price_factor, m, status'
  const equiv = `CASE WHEN backend IS NULL THEN 0 ELSE (hit * ${model('hitNano')} + (prompt - hit) * ${model('missNano')} + completion * ${model('outNano')}) * price_factor END`
  const busy = `CASE WHEN backend = 'local' THEN latency * (50 + r16 % 50) / 100 END`
  return `
WITH RECURSIVE
g(n, s) AS (SELECT CAST(:row_lo AS INTEGER), CAST(:seed AS INTEGER) UNION ALL SELECT n + 1, (${step.a} * s + ${step.c}) % ${LCG_M} FROM g WHERE n + 1 < :row_hi),
a AS MATERIALIZED (
  SELECT n, tp.team_index, tp.team_id, kp.key_id, bh.price_factor,
    bh.start_ms + ((n - bh.first_row) * ${HOUR_MS}) / bh.rows + ${r(3)} % max(1, ${HOUR_MS} / bh.rows) AS created_at,
    CASE ${modelCut.slice(0, -1).map((cut, i) => `WHEN ${r(4)} % 100 < ${cut} THEN ${i}`).join(' ')} ELSE ${BENCH_MODELS.length - 1} END AS m,
    CASE WHEN ${r(5)} % 1000 < 20 THEN 429 WHEN ${r(5)} % 1000 < 35 THEN 502 WHEN ${r(5)} % 1000 < 45 THEN 503 WHEN ${r(5)} % 1000 < 50 THEN 500 ELSE 200 END AS status,
    ${later.map((k) => `${r(k)} AS r${k}`).join(', ')}
  FROM g
  JOIN bench_hours bh ON bh.first_row = (SELECT max(first_row) FROM bench_hours WHERE first_row <= g.n)
  JOIN bench_team_pick tp ON tp.slot = ${r(1)} % ${TEAM_SLOTS}
  JOIN bench_key_pick kp ON kp.slot = tp.team_index * ${KEY_SLOTS} + ${r(2)} % ${KEY_SLOTS}
),
b AS MATERIALIZED (
  SELECT ${keep}, r8, r10, r12, r13, r14, r16, r17,
    CASE WHEN status = 429 THEN NULL WHEN ${wantLocal} <> ${fellBack} THEN 'local' ELSE 'hosted' END AS backend,
    ${fellBack} AS fb,
    r15 % 100 < 70 AS streamed,
    CASE WHEN status = 429 THEN 0 ELSE 150 + (((r9 * r9) / 65536) * r9 / 65536) * 12000 / 65536 END AS prompt,
    CASE WHEN status = 200 THEN 20 + ((r11 * r11) / 65536) * 1500 / 65536 ELSE 0 END AS completion
  FROM a
),
c AS MATERIALIZED (
  SELECT ${keep}, r16, r17, backend, fb, streamed, prompt, completion,
    CASE WHEN backend = 'local' THEN ${caseOf(`CASE ${hostCut.slice(0, -1).map((cut, i) => `WHEN r8 % 100 < ${cut} THEN ${i}`).join(' ')} ELSE ${BENCH_HOSTS.length - 1} END`, BENCH_HOSTS.map((h) => h.name))} END AS host,
    CASE WHEN backend = 'hosted' THEN prompt * (r10 % 90) / 100 ELSE 0 END AS hit,
    CASE WHEN m = 1 THEN completion * (r12 % 60) / 100 ELSE 0 END AS reasoning,
    CASE
      WHEN status = 429 THEN 2 + r13 % 10
      WHEN status <> 200 THEN 300 + (r13 * r14) % 30000
      WHEN backend = 'local' THEN 80 + r13 % 900 + completion * 1000 / (18 + r14 % 20)
      ELSE 250 + r13 % 1800 + completion * 1000 / (40 + r14 % 60)
    END AS latency,
    CASE WHEN status = 200 AND streamed THEN CASE WHEN backend = 'local' THEN 80 + r13 % 900 ELSE 250 + r13 % 1800 END END AS ttft
  FROM b
)
INSERT INTO usage (id, team_id, key_id, created_at, requested_model, backend, backend_host, upstream_model, prompt_tokens, cache_hit_tokens, cache_miss_tokens, completion_tokens, reasoning_tokens, cost_nano_usd, latency_ms, ttft_ms, status, error_code, streamed, fell_back, fallback_reason, attempts, usage_estimated, client_aborted, predicted_latency_ms, route_reason, busy_ms, local_cost_nano_usd, hosted_equiv_nano_usd)
SELECT
  'req_' || printf('%016x%016x', created_at, n), team_id, key_id, created_at, ${model('name')}, backend, host,
  CASE backend WHEN 'hosted' THEN ${model('hosted')} WHEN 'local' THEN ${model('local')} END,
  prompt, hit, prompt - hit, completion, reasoning,
  CASE WHEN backend = 'hosted' THEN ${equiv} ELSE 0 END,
  latency, ttft, status,
  CASE status WHEN 429 THEN 'rate_limit_exceeded' WHEN 502 THEN 'upstream_error' WHEN 503 THEN 'backend_unavailable' WHEN 500 THEN 'internal_error' END,
  streamed, fb,
  CASE WHEN fb AND backend = 'hosted' THEN ${caseOf('r16 % 3', ['local:timeout', 'local:status_503', 'local:connect_error'])} WHEN fb THEN 'hosted:status_502' END,
  CASE WHEN status = 429 THEN 0 WHEN fb THEN 2 ELSE 1 END,
  r17 % 1000 < 8, r17 % 1000 < 8,
  CASE WHEN team_index % 4 = 0 AND backend = 'local' THEN latency * (80 + r17 % 40) / 100 END,
  CASE WHEN team_index % 4 = 0 AND backend IS NOT NULL THEN CASE backend WHEN 'local' THEN 'auto:local-meets-deadline' ELSE 'auto:hosted-local-too-slow' END END,
  ${busy},
  CASE WHEN backend = 'local' THEN (${busy}) * ${caseOf(`CASE host ${BENCH_HOSTS.map((x, i) => `WHEN '${x.name}' THEN ${i}`).join(' ')} END`, BENCH_HOSTS.map((x) => x.nanoPerBusyMs))} ELSE 0 END,
  ${equiv}
FROM c`
}

/** Multi-row INSERTs of `rows`, a few hundred per statement. */
function insertRows(table: string, columns: string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): InStatement[] {
  const out: InStatement[] = []
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200)
    out.push({ sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map((r) => `(${r.map(() => '?').join(', ')})`).join(', ')}`, args: chunk.flat() })
  }
  return out
}

/**
 * Teams, their keys (never used to sign in: the hash is of a name, not a key), and the tables the
 * row generator joins: weighted picks of team and key, and each hour's first row and row count.
 */
async function insertPopulation(client: Client, rows: number, endHourMs: number): Promise<void> {
  const teams = benchTeams()
  const sha = (s: string) => createHash('sha256').update(s).digest('hex')
  const teamSlots = slotsFor(teams.map((t) => t.weight), TEAM_SLOTS)
  const teamPick = teamSlots.flatMap((n, i) => Array.from({ length: n }, () => i)).map((i, slot) => [slot, i, teams[i]!.id])
  const keyPick = teams.flatMap((t) => slotsFor(t.keys.map((k) => k.weight), KEY_SLOTS).flatMap((n, k) => Array.from({ length: n }, () => t.keys[k]!.id)).map((id, slot) => [t.index * KEY_SLOTS + slot, id]))
  let firstRow = 0
  const hours = benchHours(endHourMs, rows).filter((h) => h.rows > 0).map((h) => {
    const row = [firstRow, h.startMs, h.rows, h.priceFactor]
    firstRow += h.rows
    return row
  })
  await client.batch([
    'CREATE TABLE bench_team_pick (slot INTEGER PRIMARY KEY, team_index INTEGER NOT NULL, team_id TEXT NOT NULL)',
    'CREATE TABLE bench_key_pick (slot INTEGER PRIMARY KEY, key_id TEXT NOT NULL)',
    'CREATE TABLE bench_hours (first_row INTEGER PRIMARY KEY, start_ms INTEGER NOT NULL, rows INTEGER NOT NULL, price_factor INTEGER NOT NULL)',
    ...insertRows('teams', ['id', 'name', 'backend_mode'], teams.map((t) => [t.id, t.name, t.index % 4 === 0 ? 'auto' : 'local-first'])),
    ...insertRows('api_keys', ['id', 'team_id', 'name', 'role', 'prefix', 'hash'], teams.flatMap((t) => t.keys.map((k) => [k.id, t.id, k.name, 'member', 'moe_bench', sha(k.id)]))),
    ...insertRows('bench_team_pick', ['slot', 'team_index', 'team_id'], teamPick),
    ...insertRows('bench_key_pick', ['slot', 'key_id'], keyPick),
    ...insertRows('bench_hours', ['first_row', 'start_ms', 'rows', 'price_factor'], hours),
  ], 'write')
}

/** Generates `rows` usage rows into a fresh file at `path`; returns the seconds it took. */
async function generateInto(path: string, rows: number, endHourMs: number, method: RollupMethod, log: (line: string) => void): Promise<number> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
  const { client } = await openNodeDb(`file:${path}`)
  try {
    const started = performance.now()
    // A disposable cache file: a crash mid-way leaves no sidecar, so it is rebuilt, never trusted.
    await client.execute('PRAGMA synchronous = OFF')
    await client.execute('PRAGMA cache_size = -262144')
    await insertPopulation(client, rows, endHourMs)
    const { backfill, trigger } = rollupStatements()
    if (method === 'backfill') await client.execute('DROP TRIGGER usage_rollup')
    const sql = chunkInsertSql()
    for (let lo = 0, chunk = 0; lo < rows; lo += CHUNK_ROWS, chunk++) {
      await client.execute({ sql, args: { row_lo: lo, row_hi: Math.min(rows, lo + CHUNK_ROWS), seed: chunkSeed(chunk) } })
      if (chunk % 20 === 19) log(`  ${method}: ${Math.min(rows, lo + CHUNK_ROWS).toLocaleString('en-US')} rows, ${((performance.now() - started) / 1000).toFixed(0)} s`)
    }
    if (method === 'backfill') {
      const t = performance.now()
      for (const statement of backfill) await client.execute(statement)
      await client.execute(trigger)
      log(`  backfill of usage_hourly: ${((performance.now() - t) / 1000).toFixed(1)} s`)
    }
    await client.batch(['DROP TABLE bench_team_pick', 'DROP TABLE bench_key_pick', 'DROP TABLE bench_hours'], 'write')
    const seconds = (performance.now() - started) / 1000
    await client.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    const [count] = (await client.execute('SELECT count(*) AS n FROM usage')).rows
    if (Number(count?.n) !== rows) throw new Error(`generated ${String(count?.n)} usage rows, expected ${rows}`)
    return seconds
  } finally {
    client.close()
  }
}

/** Rows/s of both methods on TRIAL_ROWS rows, each into its own scratch file. */
async function trialMethods(outDir: string, endHourMs: number, log: (line: string) => void): Promise<Record<RollupMethod, number>> {
  const out = {} as Record<RollupMethod, number>
  for (const method of ['trigger', 'backfill'] as const) {
    const path = join(outDir, `dashboard-trial-${method}.db`)
    const seconds = await generateInto(path, TRIAL_ROWS, endHourMs, method, () => {})
    out[method] = TRIAL_ROWS / seconds
    log(`trial, ${TRIAL_ROWS.toLocaleString('en-US')} rows with usage_hourly by ${method}: ${seconds.toFixed(1)} s (${out[method].toFixed(0)} rows/s)`)
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
  }
  return out
}

/**
 * An earlier build of the same rows by this generator version, moved to `path` and migrated to the
 * current schema (the new rollup tables backfilled, the trigger replaced): minutes instead of a
 * regeneration, and the same path a real database takes on upgrade. Builds before the sidecar
 * recorded a version were version 2.
 */
async function upgradeOlder(outDir: string, prefix: string, path: string, log: (line: string) => void): Promise<GeneratedDb | undefined> {
  for (const name of readdirSync(outDir)) {
    if (!name.startsWith(prefix) || !name.endsWith('.db') || join(outDir, name) === path || !existsSync(join(outDir, `${name}.json`))) continue
    const old = JSON.parse(readFileSync(join(outDir, `${name}.json`), 'utf8')) as GeneratedDb
    if ((old.generatorVersion ?? 2) !== GENERATOR_VERSION) continue
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(join(outDir, name + suffix))) renameSync(join(outDir, name + suffix), path + suffix)
    rmSync(join(outDir, `${name}.json`), { force: true })
    log(`upgrading ${name} to the current migrations`)
    const started = performance.now()
    const { client } = await openNodeDb(`file:${path}`)
    await client.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    client.close()
    const seconds = (performance.now() - started) / 1000
    log(`  migrated in ${seconds.toFixed(0)} s`)
    return { ...old, upgrade: { fromKey: name, seconds } }
  }
  return undefined
}

/**
 * The cached file for `rows`, generating it when missing or stale: a trial of both ways to build
 * usage_hourly first, then the faster one for the real thing.
 */
export async function dashboardDb(opts: { rows: number; outDir: string; log: (line: string) => void }): Promise<GeneratedDb> {
  mkdirSync(opts.outDir, { recursive: true })
  const key = createHash('sha256').update(`v${GENERATOR_VERSION}:${opts.rows}:${migrationsHash()}`).digest('hex').slice(0, 12)
  const prefix = `dashboard-${opts.rows}-`
  const path = join(opts.outDir, `${prefix}${key}.db`)
  const sidecar = `${path}.json`
  if (existsSync(path) && existsSync(sidecar)) return { ...(JSON.parse(readFileSync(sidecar, 'utf8')) as GeneratedDb), path, url: `file:${path}`, reused: true }
  const upgraded = await upgradeOlder(opts.outDir, prefix, path, opts.log)
  if (upgraded) {
    const info: GeneratedDb = { ...upgraded, path, url: `file:${path}`, reused: false, generatorVersion: GENERATOR_VERSION }
    writeFileSync(sidecar, JSON.stringify(info, null, 2))
    return info
  }
  // An older build for the same row count (other migrations or generator) only takes disk space.
  for (const name of readdirSync(opts.outDir)) if (name.startsWith(prefix) && !name.startsWith(`${prefix}${key}`)) rmSync(join(opts.outDir, name), { force: true })

  const endHourMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS
  const trial = await trialMethods(opts.outDir, endHourMs, opts.log)
  const method: RollupMethod = trial.backfill > trial.trigger ? 'backfill' : 'trigger'
  opts.log(`generating ${opts.rows.toLocaleString('en-US')} usage rows with usage_hourly by ${method} into ${path}`)
  const generationSeconds = await generateInto(path, opts.rows, endHourMs, method, opts.log)
  const info: GeneratedDb = { path, url: `file:${path}`, rows: opts.rows, endHourMs, method, generationSeconds, trial, reused: false, generatorVersion: GENERATOR_VERSION }
  writeFileSync(sidecar, JSON.stringify(info, null, 2))
  return info
}

export const fileBytes = (path: string) => [path, `${path}-wal`].reduce((a, p) => a + (existsSync(p) ? statSync(p).size : 0), 0)
