/**
 * Dashboards at scale: p50/p95/max of every dashboard query (src/db/rollups.ts, usage-rows.ts),
 * report (teamReport, adminReport) and page (GET /dashboard/team, /admin, the CSV exports, in
 * process through app.request with a signed-in session), over a libSQL file of generated usage
 * (bench/dashboard/generate.ts), for the biggest team, the smallest and the admin view. Target:
 * p95 <= 100 ms each. Beside them, the 30-day totals from raw usage rows vs from usage_hourly.
 *
 * Run alone: `npx tsx bench/dashboard.ts` (prints the table); `npm run bench` puts it in RESULTS.md.
 * Env:
 *   BENCH_DASHBOARD_ROWS    usage rows to generate (default 10000000; 200000 with BENCH_QUICK=1).
 *                           The file is cached in bench/out/ per (rows, migrations, generator version).
 *   BENCH_DASHBOARD_ROUNDS  interleaved rounds, i.e. samples per operation (default 30; 5 quick).
 */
import { loadavg } from 'node:os'
import { pathToFileURL } from 'node:url'
import { and, desc, eq, lt } from 'drizzle-orm'
import type { GatewayDb } from '../src/db/client.js'
import { openNodeDb } from '../src/node/open-db.js'
import { rollupBy, rollupModels, rollupSeries, rollupTotals, type RollupDimension, type RollupScope } from '../src/db/rollups.js'
import { dailyRollups } from '../src/dashboard/daily-rollups.js'
import { usage } from '../src/db/schema.js'
import { usageRowsPage } from '../src/db/usage-rows.js'
import { adminReport } from '../src/dashboard/admin-report.js'
import { parsePeriod, PERIOD_MS } from '../src/dashboard/period.js'
import type { Period } from '../src/dashboard/report-types.js'
import { teamReport } from '../src/dashboard/team-report.js'
import { dashboardDb, fileBytes, type GeneratedDb } from './dashboard/generate.js'
import { dashboardClient, type DashboardClient } from './dashboard/pages.js'
import { rawTotalsQuery } from './dashboard/raw-totals.js'
import { sampleInterleaved, timingsOf, type TimedOp } from './dashboard/sampler.js'
import { benchTeams, type BenchTeam } from './dashboard/shape.js'
import { renderSection } from './report.js'
import { fmt, median } from './support.js'

export const TARGET_P95_MS = 100
const OUT_DIR = new URL('./out/', import.meta.url).pathname
const HALF_HOUR_MS = 1_800_000

export const DASHBOARD_HEADER = ['operation', 'view', 'p50 (ms)', 'p95 (ms)', 'max (ms)', `p95 vs target <= ${TARGET_P95_MS} ms`]

/** Row count from BENCH_DASHBOARD_ROWS, or the default for the mode. */
export function dashboardRows(quick: boolean): number {
  const env = process.env.BENCH_DASHBOARD_ROWS
  const rows = env ? Number(env.replaceAll('_', '')) : quick ? 200_000 : 10_000_000
  if (!Number.isInteger(rows) || rows < 10_000) throw new Error(`BENCH_DASHBOARD_ROWS must be a whole number >= 10000, not ${env}`)
  return rows
}

/** Interleaved rounds (samples per operation) from BENCH_DASHBOARD_ROUNDS, or the default for the mode. */
export function dashboardRounds(quick: boolean): number {
  const env = process.env.BENCH_DASHBOARD_ROUNDS
  const rounds = env ? Number(env) : quick ? 5 : 30
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_DASHBOARD_ROUNDS must be a whole number >= 1, not ${env}`)
  return rounds
}

/** 10M, 200k, 1.5M. */
export const shortCount = (n: number) => (n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : String(n))

interface View {
  label: string
  team: BenchTeam
}

interface Op extends TimedOp {
  view: string
}

/** The team's key with the most and the fewest rows in the period (by rollups). */
async function busiestAndRarestKey(db: GatewayDb, scope: RollupScope): Promise<{ busiest: string; rarest: string }> {
  const byKey = await rollupBy(db, scope, 'key')
  return { busiest: byKey[0]!.value, rarest: byKey.at(-1)!.value }
}

/** A keyset cursor in the middle of the period, for a "page 500"-like read. */
async function midPeriodCursor(db: GatewayDb, teamId: string, period: Period): Promise<{ createdAtMs: number; id: string }> {
  const mid = Math.floor((period.fromMs + period.toMs) / 2)
  const row = await db.select({ createdAtMs: usage.createdAt, id: usage.id }).from(usage).where(and(eq(usage.teamId, teamId), lt(usage.createdAt, mid))).orderBy(desc(usage.createdAt), desc(usage.id)).limit(1).get()
  if (!row) throw new Error(`no usage rows before mid-period for ${teamId}`)
  return row
}

/** Fails the benchmark on a page that did not answer 200: a timed error page would flatter it. */
function ok(what: string, res: { status: number }): void {
  if (res.status !== 200) throw new Error(`${what} answered ${res.status}`)
}

async function teamOps(db: GatewayDb, view: View, periods: Record<'today' | '7d' | '30d', Period>, nowMs: number, pages: DashboardClient): Promise<Op[]> {
  const p = periods['30d']
  const scope: RollupScope = { teamId: view.team.id, fromMs: p.fromMs, toMs: p.toMs }
  const dayBucket = { bucketMs: PERIOD_MS.day, offsetMs: 0 }
  const { busiest, rarest } = await busiestAndRarestKey(db, scope)
  const cursor = await midPeriodCursor(db, view.team.id, p)
  const op = (name: string, run: () => Promise<unknown>): Op => ({ name: `${name} | ${view.label}`, view: view.label, run })
  const by = (d: RollupDimension) => op(`rollupBy ${d}, 30d`, () => rollupBy(db, scope, d))
  const report = (name: keyof typeof periods, keyId?: string) =>
    op(`teamReport ${name}${keyId ? ', key filter' : ''}`, () => teamReport(db, { teamId: view.team.id, period: periods[name], filter: keyId ? { keyId } : {}, nowMs }))
  const cookie = await pages.signIn(await pages.teamAdminKey(view.team.id))
  const page = (name: string, path: string) => op(name, async () => ok(path, await pages.get(cookie, path)))
  return [
    op('rollupTotals, 30d', () => rollupTotals(db, scope)),
    by('key'),
    by('model'),
    by('backend'),
    by('host'),
    op('rollupSeries day x backend, 30d', () => rollupSeries(db, scope, dayBucket)),
    op('rollupSeries day x model, 30d', () => rollupSeries(db, scope, dayBucket, ['model'])),
    op('rollupModels, 30d', () => rollupModels(db, scope)),
    op('dailyRollups, 30d', () => dailyRollups(db, { teamId: view.team.id, period: p, filter: {} })),
    op('usageRowsPage newest 50, 30d', () => usageRowsPage(db, { teamId: view.team.id, fromMs: p.fromMs, toMs: p.toMs, filter: {}, limit: 50 })),
    op('usageRowsPage 50 from mid-period (keyset), 30d', () => usageRowsPage(db, { teamId: view.team.id, fromMs: p.fromMs, toMs: p.toMs, filter: {}, limit: 50, before: cursor })),
    op('usageRowsPage newest 50 of the rarest key, 30d', () => usageRowsPage(db, { teamId: view.team.id, fromMs: p.fromMs, toMs: p.toMs, filter: { keyId: rarest }, limit: 50 })),
    report('today'),
    report('7d'),
    report('30d'),
    report('30d', busiest),
    page('GET /dashboard/team today', '/dashboard/team?period=today'),
    page('GET /dashboard/team 7d', '/dashboard/team?period=7d'),
    page('GET /dashboard/team 30d', '/dashboard/team?period=30d'),
    page('GET /dashboard/team 30d, key filter', `/dashboard/team?period=30d&key=${encodeURIComponent(busiest)}`),
    page('GET /dashboard/team 30d, rarest key filter', `/dashboard/team?period=30d&key=${encodeURIComponent(rarest)}`),
    op('GET usage.csv 30d: headers + first chunk', async () => ok('usage.csv', await pages.firstChunk(cookie, '/dashboard/export/usage.csv?period=30d'))),
    page('GET daily.csv 30d, whole', '/dashboard/export/daily.csv?period=30d'),
  ]
}

async function adminOps(db: GatewayDb, periods: Record<'today' | '7d' | '30d', Period>, nowMs: number, pages: DashboardClient): Promise<Op[]> {
  const p = periods['30d']
  const scope: RollupScope = { fromMs: p.fromMs, toMs: p.toMs }
  const view = 'admin (all teams)'
  const op = (name: string, run: () => Promise<unknown>): Op => ({ name: `${name} | ${view}`, view, run })
  const cookie = await pages.signIn(pages.adminKey)
  const ops: Op[] = [
    op('rollupTotals, 30d', () => rollupTotals(db, scope)),
    op('rollupBy team, 30d', () => rollupBy(db, scope, 'team')),
    op('rollupBy host (local), 30d', () => rollupBy(db, { ...scope, backend: 'local' }, 'host')),
    op('rollupSeries day x backend, 30d', () => rollupSeries(db, scope, { bucketMs: PERIOD_MS.day, offsetMs: 0 })),
  ]
  for (const name of ['today', '7d', '30d'] as const) ops.push(op(`adminReport ${name}`, () => adminReport(db, { period: periods[name], hosts: [], nowMs })))
  for (const name of ['today', '7d', '30d'] as const) ops.push(op(`GET /dashboard/admin ${name}`, async () => ok('/dashboard/admin', await pages.get(cookie, `/dashboard/admin?period=${name}`))))
  return ops
}

const ratio = (x: number) => fmt(x, x < 10 ? 1 : 0)

/** Raw usage vs usage_hourly for the same 30-day totals, interleaved; ratio per round. */
async function rawVsRollup(db: GatewayDb, raw: ReturnType<typeof rawTotalsQuery>, views: Array<{ label: string; teamId?: string }>, period: Period, rounds: number): Promise<string[][]> {
  const ops: TimedOp[] = []
  for (const v of views) {
    const scope = { teamId: v.teamId, fromMs: period.fromMs, toMs: period.toMs }
    const [fromRaw, fromRollup] = [await raw(scope), await rollupTotals(db, scope)]
    if (fromRaw.requests !== fromRollup.requests || fromRaw.costNanoUsd !== fromRollup.costNanoUsd) {
      throw new Error(`usage_hourly disagrees with raw rows for ${v.label}: ${fromRollup.requests} vs ${fromRaw.requests} requests`)
    }
    ops.push({ name: `raw ${v.label}`, run: () => raw(scope) }, { name: `rollup ${v.label}`, run: () => rollupTotals(db, scope) })
  }
  const samples = await sampleInterleaved(ops, { rounds, warmup: 1 })
  return views.map((v) => {
    const rawMs = samples.get(`raw ${v.label}`)!
    const rollupMs = samples.get(`rollup ${v.label}`)!
    const ratios = rawMs.map((ms, i) => ms / rollupMs[i]!)
    return [`30-day totals from raw usage rows vs rollupTotals (${rounds} rounds)`, v.label, `raw ${fmt(median(rawMs), 1)}`, `rollup ${fmt(median(rollupMs), 1)}`, '-', `raw/rollup ${ratio(median(ratios))}x (${ratio(Math.min(...ratios))}-${ratio(Math.max(...ratios))})`]
  })
}

export interface DashboardResult {
  rows: string[][]
  generated: GeneratedDb
}

export async function benchDashboard(opts: { rows: number; rounds: number; rawRounds?: number; log?: (line: string) => void }): Promise<DashboardResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const generated = await dashboardDb({ rows: opts.rows, outDir: OUT_DIR, log })
  const bytes = fileBytes(generated.path)
  log(`dashboard db: ${generated.rows.toLocaleString('en-US')} usage rows, ${(bytes / 2 ** 30).toFixed(2)} GiB, ${generated.reused ? 'reused from cache' : `generated in ${generated.generationSeconds.toFixed(0)} s`} (usage_hourly by ${generated.method})`)

  // The benchmark's clock: half past the last generated hour, however long ago the file was made.
  const nowMs = generated.endHourMs + HALF_HOUR_MS
  const { db, client } = await openNodeDb(generated.url)
  const pages = dashboardClient(db, nowMs)
  try {
    const periodOf = (name: 'today' | '7d' | '30d') => parsePeriod({ period: name }, nowMs) as Period
    const periods = { today: periodOf('today'), '7d': periodOf('7d'), '30d': periodOf('30d') }
    const teams = benchTeams()
    const share = (t: BenchTeam) => `${fmt(t.weight * 100, 1)}% of rows, ${t.keys.length} keys`
    const big: View = { label: `big team (${share(teams[0]!)})`, team: teams[0]! }
    const small: View = { label: `small team (${share(teams.at(-1)!)})`, team: teams.at(-1)! }
    const ops = [...(await teamOps(db, big, periods, nowMs, pages)), ...(await teamOps(db, small, periods, nowMs, pages)), ...(await adminOps(db, periods, nowMs, pages))]

    const loadAtStart = loadavg()[0]!
    log(`timing ${ops.length} dashboard operations, ${opts.rounds} interleaved rounds`)
    const started = performance.now()
    const samples = await sampleInterleaved(ops, { rounds: opts.rounds, onRound: (r) => r % 5 === 0 && log(`  round ${r}/${opts.rounds}, ${((performance.now() - started) / 1000).toFixed(0)} s`) })
    const rows = ops.map((op) => {
      const t = timingsOf(samples.get(op.name)!)
      return [op.name.split(' | ')[0]!, op.view, fmt(t.p50, 1), fmt(t.p95, 1), fmt(t.max, 1), t.p95 <= TARGET_P95_MS ? 'pass' : `FAIL (${fmt(t.p95 / TARGET_P95_MS, 1)}x target)`]
    })

    log('raw usage rows vs usage_hourly, 30-day totals')
    const raw = rawTotalsQuery(client)
    rows.push(...(await rawVsRollup(db, raw, [{ label: big.label, teamId: big.team.id }, { label: small.label, teamId: small.team.id }, { label: 'admin (all teams)' }], periods['30d'], opts.rawRounds ?? 5)))

    const count = async (table: string) => Number((await client.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n)
    const [usageRows, hourlyRows] = [await count('usage'), await count('usage_hourly')]
    const trial = generated.trial ? `; trial on 200k rows: trigger ${fmt(generated.trial.trigger, 0)} rows/s, backfill ${fmt(generated.trial.backfill, 0)} rows/s` : ''
    rows.push(
      ['usage_hourly rows (rollups)', `${usageRows.toLocaleString('en-US')} usage rows`, '-', '-', '-', `${hourlyRows.toLocaleString('en-US')} (${fmt(usageRows / hourlyRows, 1)} usage rows per rollup row)`],
      ['setup', `${shortCount(usageRows)} rows over 90 days, 50 teams, libSQL file ${(bytes / 2 ** 30).toFixed(2)} GiB`, '-', '-', '-', `generated in ${fmt(generated.generationSeconds, 0)} s with usage_hourly by ${generated.method}${trial}${generated.upgrade ? `, then brought to the current schema by the gateway's migrations in ${fmt(generated.upgrade.seconds, 0)} s (daily and per-team rollups backfilled from usage_hourly)` : ''}${generated.reused ? ' (file reused from cache)' : ''}; ${opts.rounds} interleaved rounds after a warm-up round (warm page cache), ${new Date().toISOString().slice(0, 16)}Z, 1-min load ${fmt(loadAtStart, 1)} at start, ${fmt(loadavg()[0]!, 1)} at end`],
    )
    return { rows, generated }
  } finally {
    await pages.close()
    client.close()
  }
}

/** The summary lines: how many operations miss the target (and the worst), the raw/rollup ratios, the setup. */
export function dashboardSummary(rows: string[][]): Array<[string, string]> {
  const timed = rows.filter((r) => r[5] === 'pass' || r[5]!.startsWith('FAIL'))
  const failed = timed.filter((r) => r[5]!.startsWith('FAIL')).sort((a, b) => Number(b[3]) - Number(a[3]))
  const worst = failed[0] ?? [...timed].sort((a, b) => Number(b[3]) - Number(a[3]))[0]
  const out: Array<[string, string]> = [[`operations with p95 over ${TARGET_P95_MS} ms`, `${failed.length} of ${timed.length}; worst p95 ${worst?.[3]} ms: ${worst?.[0]}, ${worst?.[1]}`]]
  for (const r of rows.filter((r) => r[0]!.startsWith('30-day totals from raw'))) out.push([`30-day totals, raw rows vs rollups: ${r[1]}`, r[5]!])
  const hourly = rows.find((r) => r[0]!.startsWith('usage_hourly rows'))
  if (hourly) out.push(['usage_hourly rows', hourly[5]!])
  return out
}

export function dashboardTitle(rows: number): string {
  return `Dashboard at scale: ${shortCount(rows)} usage rows, p50/p95/max per query, report and page (in-process, libSQL file), target p95 <= ${TARGET_P95_MS} ms`
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (isMain) {
  const quick = process.env.BENCH_QUICK === '1'
  const rows = dashboardRows(quick)
  const result = await benchDashboard({ rows, rounds: dashboardRounds(quick), rawRounds: quick ? 2 : 5 })
  process.stdout.write(`${renderSection({ title: dashboardTitle(rows), header: DASHBOARD_HEADER, rows: result.rows })}\n`)
}
