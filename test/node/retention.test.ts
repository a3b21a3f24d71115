import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Client } from '@libsql/client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { GatewayDb } from '../../src/db/client.js'
import { openNodeDb } from '../../src/node/open-db.js'
import { pruneUsage } from '../../src/db/retention-job.js'
import { deleteUsageBefore } from '../../src/db/retention.js'
import { rollupTotals } from '../../src/db/rollups.js'
import type { UsageRow } from '../../src/db/schema.js'
import { insertUsageRows } from '../../src/db/usage.js'
import { silentLogger } from '../../src/log.js'
import { startGateway } from '../../src/node.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 28, 12)

const row = (id: string, teamId: string, ageDays: number): UsageRow => ({
  id, teamId, keyId: `key_${teamId}`, createdAt: NOW - ageDays * DAY, requestedModel: 'm', backend: 'hosted', status: 200, promptTokens: 10, completionTokens: 5, costNanoUsd: 1000, latencyMs: 100,
})

let dir: string
let db: GatewayDb
let client: Client
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'retention-'))
  ;({ db, client } = await openNodeDb(`file:${join(dir, 'g.db')}`))
  const rows: UsageRow[] = []
  for (const team of ['t1', 't2']) for (let i = 0; i < 120; i++) rows.push(row(`${team}_${i}`, team, i))
  await insertUsageRows(db, rows)
})
afterEach(() => {
  client.close()
  rmSync(dir, { recursive: true, force: true })
})

const ids = async (c: Client = client) => (await c.execute('select id, created_at from usage')).rows.map((r) => ({ id: String(r.id), createdAt: Number(r.created_at) }))

describe('usage retention', () => {
  it('deletes only rows older than the cutoff, for every team, and leaves the rollups whole', async () => {
    const all = { fromMs: NOW - 200 * DAY, toMs: NOW + DAY }
    const before = await rollupTotals(db, all)
    const deleted = await pruneUsage({ db, days: 90, now: () => NOW, log: silentLogger })
    const left = await ids()
    expect(deleted).toBe(2 * 29) // ages 91..119 in both teams
    expect(left).toHaveLength(2 * 91)
    expect(left.every((r) => r.createdAt >= NOW - 90 * DAY)).toBe(true)
    expect(await rollupTotals(db, all)).toEqual(before)
  })

  it('stops at maxRows and says so; the next run finishes', async () => {
    const first = await deleteUsageBefore(db, NOW - 50 * DAY, { maxRows: 30 })
    expect(first).toEqual({ deleted: 30, complete: false })
    const second = await deleteUsageBefore(db, NOW - 50 * DAY)
    expect(second).toEqual({ deleted: 2 * 69 - 30, complete: true })
  })

  it('"forever" keeps everything', async () => {
    expect(await pruneUsage({ db, days: null, now: () => NOW, log: silentLogger })).toBe(0)
    expect(await ids()).toHaveLength(240)
  })
})

describe('the Node entry', () => {
  it('runs retention when it starts (and hourly after), with USAGE_RETENTION_DAYS', async () => {
    const path = join(dir, 'g.db')
    client.close()
    const gw = await startGateway({ env: { DATABASE_URL: `file:${path}`, USAGE_RETENTION_DAYS: '30', ADMIN_KEY: 'retention-test-admin-key-0123456789' }, port: 0, log: silentLogger })
    try {
      // The fixture's rows are dated from NOW (a fixed day); rows older than 30 days before today go.
      const cutoff = Date.now() - 30 * DAY
      await expect.poll(async () => (await ids(gw.client)).filter((r) => r.createdAt < cutoff).length, { timeout: 10_000 }).toBe(0)
      const left = await ids(gw.client)
      // 2 teams x the ages within 30 days of today (the fixture's days count back from NOW).
      expect(left.length).toBe(2 * Array.from({ length: 120 }, (_, age) => NOW - age * DAY).filter((t) => t >= cutoff).length)
    } finally {
      await gw.close()
      ;({ db, client } = await openNodeDb(`file:${path}`))
    }
  })
})
