import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import { openNodeDb } from '../../src/node/open-db.js'
import { usage } from '../../src/db/schema.js'
import { startGateway, type RunningGateway } from '../../src/node.js'
import { silentLogger } from '../../src/log.js'
import { BatchingUsageWriter } from '../../src/metering/batching-writer.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { ADMIN_KEY, teamWithKey } from '../support/gateway.js'
import { startSqld, type SqldProcess } from '../support/sqld.js'

let deepseek: FakeDeepSeek
let sqld: SqldProcess
let gw: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  sqld = await startSqld({ dbPath: join(mkdtempSync(join(tmpdir(), 'moe-outage-')), 'db') })
  gw = await startGateway({ env: { DATABASE_URL: sqld.url, ADMIN_KEY, DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url }, port: 0, log: silentLogger })
})

afterAll(async () => {
  await gw?.close()
  await sqld?.stop()
  await deepseek?.close()
})

describe('usage rows when the database goes away', () => {
  it('keeps serving while sqld is down and writes every row exactly once after it returns', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const send = async () => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'still there?' }] }),
      })
      await res.arrayBuffer()
      return res.status
    }
    expect(await send()).toBe(200) // warms the key cache
    await gw.writer.flush()
    await sqld.stop()
    const statuses = []
    for (let i = 0; i < 12; i++) statuses.push(await send())
    expect(statuses.every((s) => s === 200)).toBe(true)
    await expect.poll(() => gw.writer.pendingRows, { timeout: 5000 }).toBeGreaterThanOrEqual(12)
    sqld = await startSqld({ dbPath: sqld.dbPath, port: sqld.port })
    expect(await gw.writer.flush(20_000)).toBe(0)
    const rows = await gw.db.select().from(usage).where(eq(usage.teamId, teamId)).all()
    expect(rows).toHaveLength(13)
    expect(new Set(rows.map((r) => r.id)).size).toBe(13)
  })
})

describe('BatchingUsageWriter', () => {
  it('retries a batch whose reply was lost without writing it twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moe-writer-'))
    const { db, client } = await openNodeDb(`file:${join(dir, 'w.db')}`)
    const { insertUsageRows } = await import('../../src/db/usage.js')
    let calls = 0
    const writer = new BatchingUsageWriter({
      log: silentLogger,
      minRetryMs: 10,
      // The first write reaches the database but its reply is "lost".
      write: async (rows) => {
        calls++
        await insertUsageRows(db, rows)
        if (calls === 1) throw new Error('connection reset')
      },
    })
    for (let i = 0; i < 5; i++) writer.record({ id: `row-${i}`, teamId: 't', keyId: 'k', createdAt: Date.now(), status: 200 })
    expect(await writer.flush(5000)).toBe(0)
    expect(calls).toBeGreaterThanOrEqual(2)
    const count = await client.execute('select count(*) as n from usage')
    expect(Number(count.rows[0]?.n)).toBe(5)
    client.close()
  })
})

describe('BatchingUsageWriter with a row the database refuses', () => {
  it('writes every other row and sets the bad one aside instead of stalling behind it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moe-poison-'))
    const { db, client } = await openNodeDb(`file:${join(dir, 'p.db')}`)
    const { insertUsageRows } = await import('../../src/db/usage.js')
    const writer = new BatchingUsageWriter({
      log: silentLogger,
      minRetryMs: 1,
      maxRetryMs: 5,
      probe: () => client.execute('select 1'),
      // Stands in for a value the database cannot take (as sqld refused lone surrogates).
      write: async (rows) => {
        if (rows.some((r) => r.id === 'row-poison')) throw new Error('refused')
        await insertUsageRows(db, rows)
      },
    })
    for (let i = 0; i < 50; i++) writer.record({ id: i === 20 ? 'row-poison' : `row-${i}`, teamId: 't', keyId: 'k', createdAt: Date.now(), status: 200 })
    expect(await writer.flush(10_000)).toBe(0)
    expect(writer.quarantined.map((r) => r.id)).toEqual(['row-poison'])
    const count = await client.execute('select count(*) as n from usage')
    expect(Number(count.rows[0]?.n)).toBe(49)
    client.close()
  })

  it('sets nothing aside while the database itself is down', async () => {
    let up = false
    const written: string[] = []
    const writer = new BatchingUsageWriter({
      log: silentLogger,
      minRetryMs: 1,
      maxRetryMs: 5,
      probe: async () => { if (!up) throw new Error('down') },
      write: async (rows) => {
        if (!up) throw new Error('down')
        written.push(...rows.map((r) => r.id))
      },
    })
    for (let i = 0; i < 10; i++) writer.record({ id: `r${i}`, teamId: 't', keyId: 'k', createdAt: 0, status: 200 })
    expect(await writer.flush(300)).toBe(10)
    up = true
    expect(await writer.flush(5000)).toBe(0)
    expect(writer.quarantined).toEqual([])
    expect(written.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`).sort())
  })
})
