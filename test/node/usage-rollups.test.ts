import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Client } from '@libsql/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GatewayDb } from '../../src/db/client.js'
import { openNodeDb, MIGRATIONS_DIR } from '../../src/node/open-db.js'
import { rollupBy, rollupSeries, rollupTotals, type RollupScope } from '../../src/db/rollups.js'
import { dailyRollups } from '../../src/dashboard/daily-rollups.js'
import { planRollup } from '../../src/db/rollup-plan.js'
import type { UsageRow } from '../../src/db/schema.js'
import { insertUsageRows } from '../../src/db/usage.js'
import { parsePeriod } from '../../src/dashboard/period.js'
import { LATENCY_BUCKET_BOUNDS_MS, LATENCY_BUCKETS, latencyBucketOf, quantileOf } from '../../src/metering/latency-buckets.js'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0)
/** Ten days: queries span whole days (daily rollups) and partial ones (hourly edges). */
const SPAN_HOURS = 240

/** A deterministic pseudo-random generator, so a failure reproduces. */
function seeded(seed: number) {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32)
}

function randomRows(n: number, seed: number): UsageRow[] {
  const rnd = seeded(seed)
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T
  return Array.from({ length: n }, (_, i) => {
    const backend = pick(['local', 'hosted', null] as const)
    const ttft = rnd() < 0.2 ? null : Math.floor(rnd() * 5000)
    return {
      id: `u${seed}_${i}`,
      teamId: pick(['team_a', 'team_b']),
      keyId: pick(['key_1', 'key_2', 'key_3']),
      createdAt: T0 + Math.floor(rnd() * SPAN_HOURS * HOUR),
      requestedModel: pick(['deepseek-chat', 'deepseek-reasoner', null]),
      backend,
      backendHost: backend === 'local' ? pick(['box1', 'box2']) : null,
      promptTokens: Math.floor(rnd() * 4000),
      cacheHitTokens: Math.floor(rnd() * 1000),
      cacheMissTokens: Math.floor(rnd() * 3000),
      completionTokens: Math.floor(rnd() * 800),
      reasoningTokens: Math.floor(rnd() * 300),
      costNanoUsd: backend === 'hosted' ? Math.floor(rnd() * 5e6) : 0,
      localCostNanoUsd: backend === 'local' ? Math.floor(rnd() * 3e6) : 0,
      hostedEquivNanoUsd: backend ? Math.floor(rnd() * 6e6) : 0,
      busyMs: backend === 'local' ? Math.floor(rnd() * 9000) : null,
      // Every bound and its neighbours show up, so a trigger bucket off by one is caught.
      latencyMs: rnd() < 0.3 ? pick(LATENCY_BUCKET_BOUNDS_MS) + pick([-1, 0, 1]) : Math.floor(rnd() * 200_000),
      ttftMs: ttft,
      status: pick([200, 200, 200, 429, 502]),
      fellBack: rnd() < 0.1,
      clientAborted: rnd() < 0.05,
    }
  })
}

let dir: string
let db: GatewayDb
let client: Client
const rows = randomRows(3000, 7)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rollups-'))
  ;({ db, client } = await openNodeDb(`file:${join(dir, 'g.db')}`))
  await insertUsageRows(db, rows)
  // A retried batch (lost reply) must not count twice.
  await insertUsageRows(db, rows.slice(0, 500))
})
afterAll(() => {
  client.close()
  rmSync(dir, { recursive: true, force: true })
})

const sum = (xs: UsageRow[], f: (r: UsageRow) => number) => xs.reduce((a, r) => a + f(r), 0)
const inRange = (r: UsageRow, from: number, to: number) => r.createdAt >= from && r.createdAt < to

describe('usage_hourly, kept by the insert trigger', () => {
  it('sums every column exactly, once per row, per team and filter', async () => {
    for (const [teamId, backend] of [['team_a', undefined], ['team_b', 'local'], ['team_a', 'hosted']] as const) {
      const from = T0 + 5 * HOUR
      const to = T0 + 50 * HOUR
      const mine = rows.filter((r) => r.teamId === teamId && inRange(r, from, to) && (backend === undefined || r.backend === backend))
      const got = await rollupTotals(db, { teamId, fromMs: from, toMs: to, ...(backend ? { backend } : {}) })
      expect(got.requests).toBe(mine.length)
      expect(got.errors).toBe(mine.filter((r) => r.status >= 400).length)
      expect(got.fallbacks).toBe(mine.filter((r) => r.fellBack).length)
      expect(got.promptTokens).toBe(sum(mine, (r) => r.promptTokens ?? 0))
      expect(got.cacheHitTokens).toBe(sum(mine, (r) => r.cacheHitTokens ?? 0))
      expect(got.completionTokens).toBe(sum(mine, (r) => r.completionTokens ?? 0))
      expect(got.reasoningTokens).toBe(sum(mine, (r) => r.reasoningTokens ?? 0))
      expect(got.costNanoUsd).toBe(sum(mine, (r) => r.costNanoUsd ?? 0))
      expect(got.localCostNanoUsd).toBe(sum(mine, (r) => r.localCostNanoUsd ?? 0))
      expect(got.localHostedEquivNanoUsd).toBe(sum(mine.filter((r) => r.backend === 'local'), (r) => r.hostedEquivNanoUsd ?? 0))
      expect(got.busyMs).toBe(sum(mine, (r) => r.busyMs ?? 0))
      expect(got.localRequests).toBe(mine.filter((r) => r.backend === 'local').length)
    }
  })

  it('puts each latency and TTFT in the bucket latencyBucketOf names (SQL bounds agree with the constant)', async () => {
    const got = await rollupTotals(db, { teamId: 'team_b', fromMs: T0, toMs: T0 + SPAN_HOURS * HOUR })
    const mine = rows.filter((r) => r.teamId === 'team_b')
    const hist = (values: number[]) => {
      const h = new Array<number>(LATENCY_BUCKETS).fill(0)
      for (const v of values) h[latencyBucketOf(v)]!++
      return h
    }
    expect(got.latency).toEqual(hist(mine.map((r) => r.latencyMs ?? 0)))
    expect(got.ttft).toEqual(hist(mine.flatMap((r) => (r.ttftMs == null ? [] : [r.ttftMs]))))
  })

  it('groups by key and by day; another team never shows up', async () => {
    const byKey = await rollupBy(db, { teamId: 'team_a', fromMs: T0, toMs: T0 + SPAN_HOURS * HOUR }, 'key')
    for (const k of byKey) expect(k.requests).toBe(rows.filter((r) => r.teamId === 'team_a' && r.keyId === k.value).length)
    // Without histograms: the same sums, no latency buckets.
    const lean = await rollupBy(db, { teamId: 'team_a', fromMs: T0, toMs: T0 + SPAN_HOURS * HOUR }, 'key', { histograms: false })
    expect(lean.map(({ latency, ttft, ...rest }) => ({ ...rest, latency: latency.length, ttft: ttft.length }))).toEqual(byKey.map(({ latency, ttft, ...rest }) => ({ ...rest, latency: 0, ttft: 0 })))
    const period = parsePeriod({ period: 'custom', from: '2026-11-20', to: '2026-11-22', tz: '120' }, T0)
    if ('error' in period) throw new Error(period.error)
    const daily = await dailyRollups(db, { teamId: 'team_a', period, filter: { model: 'deepseek-chat' } })
    for (const d of daily) {
      const mine = rows.filter((r) => r.teamId === 'team_a' && r.requestedModel === 'deepseek-chat' && (r.backend ?? '') === d.backend && inRange(r, d.dayStartMs, d.dayStartMs + 24 * HOUR))
      expect(d.dayStartMs % (24 * HOUR)).toBe(22 * HOUR) // local midnight at UTC+2
      expect(d.requests).toBe(mine.length)
      expect(d.hostedCostNanoUsd).toBe(sum(mine, (r) => r.costNanoUsd ?? 0))
    }
    expect(daily.length).toBeGreaterThan(3)
    const none = await rollupTotals(db, { teamId: 'team_c', fromMs: T0, toMs: T0 + 72 * HOUR })
    expect(none.requests).toBe(0)
  })

  it("the migration's backfill builds the same rollups from existing rows as the trigger did", async () => {
    const sqlText = readFileSync(join(MIGRATIONS_DIR, '0008_usage_rollup_trigger.sql'), 'utf8')
    const backfill = sqlText.split('--> statement-breakpoint').map((s) => s.trim()).find((s) => s.startsWith('INSERT INTO usage_hourly'))
    expect(backfill).toBeDefined()
    const before = await rollupSeries(db, { fromMs: T0, toMs: T0 + 72 * HOUR }, { bucketMs: HOUR, offsetMs: 0 }, ['team', 'key', 'model', 'backend', 'host'])
    await client.execute('DELETE FROM usage_hourly')
    await client.execute(backfill!)
    const after = await rollupSeries(db, { fromMs: T0, toMs: T0 + 72 * HOUR }, { bucketMs: HOUR, offsetMs: 0 }, ['team', 'key', 'model', 'backend', 'host'])
    expect(after).toEqual(before)
    expect(after.length).toBeGreaterThan(100)
  })

  it("the daily and per-team tables' backfill (migration 0010) matches what the trigger built", async () => {
    const sqlText = readFileSync(join(MIGRATIONS_DIR, '0010_usage_rollup_trigger_v2.sql'), 'utf8')
    const backfills = sqlText.split('--> statement-breakpoint').map((s) => s.trim()).filter((s) => s.startsWith('INSERT INTO'))
    expect(backfills.map((s) => s.split(' ')[2])).toEqual(['usage_daily', 'usage_team_hourly', 'usage_daily_model', 'usage_daily_team'])
    const snapshot = async () => Promise.all(['usage_daily', 'usage_team_hourly', 'usage_daily_model', 'usage_daily_team'].map(async (t) => (await client.execute(`select * from ${t} order by 1, 2, 3, 4`)).rows.map((r) => JSON.stringify(r))))
    const before = await snapshot()
    expect(before.every((rows) => rows.length > 10)).toBe(true)
    for (const t of ['usage_daily', 'usage_team_hourly', 'usage_daily_model', 'usage_daily_team']) await client.execute(`delete from ${t}`)
    for (const statement of backfills) await client.execute(statement)
    expect(await snapshot()).toEqual(before)
  })

  it('answers any range of whole hours exactly, whichever tables the plan reads (daily middles, hourly edges, any offset)', async () => {
    const rnd = seeded(11)
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T
    const lastRow = Math.max(...rows.map((r) => r.createdAt))
    const tables = new Set<string>()
    for (let round = 0; round < 60; round++) {
      const a = Math.floor(rnd() * (SPAN_HOURS + 24))
      const b = Math.floor(rnd() * (SPAN_HOURS + 24))
      const from = T0 + Math.min(a, b) * HOUR
      const to = T0 + (Math.max(a, b) + 1) * HOUR
      // In production no row is newer than now; nowMs, when given, says so.
      const nowMs = pick([undefined, lastRow + 1])
      const scope: RollupScope = {
        fromMs: from,
        toMs: to,
        ...(nowMs !== undefined ? { nowMs } : {}),
        ...pick([{}, { teamId: 'team_a' }, { teamId: 'team_b', keyId: 'key_2' }, { teamId: 'team_a', model: 'deepseek-chat' }, { teamId: 'team_b', backend: 'local' }]),
      }
      const dimension = pick(['key', 'model', 'backend', 'host', 'team'] as const)
      const mine = rows.filter((r) => inRange(r, from, to) && (scope.teamId === undefined || r.teamId === scope.teamId) && (scope.keyId === undefined || r.keyId === scope.keyId) && (scope.model === undefined || r.requestedModel === scope.model) && (scope.backend === undefined || r.backend === scope.backend))
      const valueOf = (r: UsageRow) => ({ key: r.keyId, model: r.requestedModel ?? '', backend: r.backend ?? '', host: r.backendHost ?? '', team: r.teamId })[dimension]
      for (const src of planRollup({ fromMs: from, toMs: to, nowMs, dims: new Set(['backend', dimension]), hourly: false })) tables.add(src.table.name)

      const totals = await rollupTotals(db, scope)
      const context = JSON.stringify({ scope, dimension })
      expect(totals.requests, context).toBe(mine.length)
      expect(totals.costNanoUsd, context).toBe(sum(mine, (r) => r.costNanoUsd ?? 0))
      expect(totals.localHostedEquivNanoUsd, context).toBe(sum(mine.filter((r) => r.backend === 'local'), (r) => r.hostedEquivNanoUsd ?? 0))
      expect(totals.latency.reduce((x, y) => x + y, 0), context).toBe(mine.length)
      const by = await rollupBy(db, scope, dimension)
      const expected = new Map<string, number>()
      for (const r of mine) expected.set(valueOf(r), (expected.get(valueOf(r)) ?? 0) + (r.completionTokens ?? 0))
      expect(new Map(by.map((g) => [g.value, g.completionTokens])), context).toEqual(expected)

      // Whole-hour offsets: hourly rows cannot be split at a half-hour zone's midnight (see parsePeriod).
      const tz = pick([0, 540, -300, 60])
      const series = await rollupSeries(db, scope, { bucketMs: 24 * HOUR, offsetMs: tz * 60_000 }, ['model'])
      const perDay = new Map<string, number>()
      for (const r of mine) {
        const day = r.createdAt + tz * 60_000 - ((r.createdAt + tz * 60_000) % (24 * HOUR)) - tz * 60_000
        const k = `${day} ${r.requestedModel ?? ''}`
        perDay.set(k, (perDay.get(k) ?? 0) + (r.promptTokens ?? 0))
      }
      expect(new Map(series.map((g) => [`${g.startMs} ${g.dims.model}`, g.promptTokens])), `${context} tz ${tz}`).toEqual(perDay)
    }
    // The rounds went through every table.
    expect([...tables].sort()).toEqual(['usage_daily', 'usage_daily_model', 'usage_daily_team', 'usage_hourly', 'usage_team_hourly'])
  })
})

describe('quantileOf', () => {
  it('lands in the bucket holding the true quantile', () => {
    const rnd = seeded(3)
    for (let round = 0; round < 50; round++) {
      const values = Array.from({ length: 1 + Math.floor(rnd() * 500) }, () => Math.floor(rnd() ** 3 * 100_000))
      const hist = new Array<number>(LATENCY_BUCKETS).fill(0)
      for (const v of values) hist[latencyBucketOf(v)]!++
      const sorted = [...values].sort((a, b) => a - b)
      for (const q of [0.5, 0.95]) {
        const truth = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!
        const b = latencyBucketOf(truth)
        const got = quantileOf(hist, q)!
        const lower = b === 0 ? 0 : LATENCY_BUCKET_BOUNDS_MS[b - 1]!
        const upper = LATENCY_BUCKET_BOUNDS_MS[b] ?? lower
        expect(got).toBeGreaterThanOrEqual(lower)
        expect(got).toBeLessThanOrEqual(upper)
      }
    }
    expect(quantileOf(new Array(LATENCY_BUCKETS).fill(0), 0.5)).toBeNull()
  })
})

describe('parsePeriod', () => {
  const now = Date.UTC(2026, 10, 28, 15, 20)
  it('reads named periods in the viewer offset, whole hours, current hour included', () => {
    const today = parsePeriod({ period: 'today', tz: '-300' }, now)
    expect(today).toMatchObject({ fromMs: Date.UTC(2026, 10, 28, 5), toMs: Date.UTC(2026, 10, 28, 16), bucket: 'hour' })
    const week = parsePeriod({}, now)
    expect(week).toMatchObject({ name: '7d', fromMs: Date.UTC(2026, 10, 22), bucket: 'day' })
    expect(parsePeriod({ period: '30d' }, now)).toMatchObject({ fromMs: Date.UTC(2026, 9, 30) })
    expect(parsePeriod({ period: 'custom', from: '2026-11-01', to: '2026-11-01' }, now)).toMatchObject({ fromMs: Date.UTC(2026, 10, 1), toMs: Date.UTC(2026, 10, 2), label: '2026-11-01' })
  })
  it('refuses what is not a period, with a reason', () => {
    for (const q of [{ period: 'year' }, { period: 'custom', from: '2026-02-31', to: '2026-03-01' }, { period: 'custom', from: '2026-11-02', to: '2026-11-01' }, { period: 'custom', from: '2020-01-01', to: '2026-01-01' }, { tz: '2000' }, { tz: 'x' }, { period: 'custom', from: '2026-11-01' }]) {
      const got = parsePeriod(q, now)
      expect(got, JSON.stringify(q)).toHaveProperty('error')
    }
  })
})
