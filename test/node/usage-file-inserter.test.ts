import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Client } from '@libsql/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GatewayDb } from '../../src/db/client.js'
import { openNodeDb } from '../../src/node/open-db.js'
import type { UsageRow } from '../../src/db/schema.js'
import { insertUsageRows } from '../../src/db/usage.js'
import { usageFileInserterFor, type UsageFileInserter } from '../../src/node/usage-file-inserter.js'
import { USAGE_INSERT_SQL, usageInsertArgs } from '../../src/db/usage-insert.js'

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0)

/** Rows with every optional field both set and left out, so a default or a mapping that differs shows. */
function rows(n: number, prefix: string): UsageRow[] {
  return Array.from({ length: n }, (_, i) => {
    const full = i % 2 === 0
    return {
      id: `${prefix}${i}`,
      teamId: `team_${i % 3}`,
      keyId: `key_${i % 4}`,
      createdAt: T0 + i * 97_000,
      status: [200, 429, 502][i % 3]!,
      ...(full
        ? {
            requestedModel: 'deepseek-chat', backend: i % 4 === 0 ? 'local' : 'hosted', backendHost: i % 4 === 0 ? 'box1' : null, upstreamModel: 'deepseek-v4-flash',
            promptTokens: 100 + i, cacheHitTokens: i, cacheMissTokens: 100, completionTokens: 7 * i, reasoningTokens: i % 5,
            costNanoUsd: 31_000_000_123 + i, latencyMs: 900 + i, ttftMs: i % 3 === 0 ? null : 150, errorCode: i % 3 === 2 ? 'upstream_error' : null,
            streamed: true, fellBack: i % 6 === 0, fallbackReason: i % 6 === 0 ? 'local:timeout' : null, attempts: 2, usageEstimated: true, clientAborted: i % 8 === 0,
            predictedLatencyMs: 1200, routeReason: 'auto:local-meets-deadline', busyMs: 800, localCostNanoUsd: 9_000 + i, hostedEquivNanoUsd: 40_000 + i,
          }
        : {}),
    }
  })
}

let dir: string
const dbs: { db: GatewayDb; client: Client }[] = []
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'moe-usage-ins-'))
})
afterAll(() => {
  for (const { client } of dbs) client.close()
  rmSync(dir, { recursive: true, force: true })
})

async function openFile(name: string) {
  const url = `file:${join(dir, name)}`
  const opened = await openNodeDb(url)
  dbs.push(opened)
  return { ...opened, url }
}

/** Every table the usage INSERT writes to (usage and the rollups its trigger keeps), all rows, in order. */
async function usageTables(client: Client): Promise<Record<string, unknown[]>> {
  const tables = await client.execute("select name from sqlite_master where type = 'table' and name like 'usage%' order by name")
  const out: Record<string, unknown[]> = {}
  for (const { name } of tables.rows) {
    const all = await client.execute(`select * from "${String(name)}" order by 1, 2, 3, 4`)
    out[String(name)] = all.rows.map((r) => ({ ...r }))
  }
  return out
}

describe('usage rows through one prepared INSERT (file: databases on Node)', () => {
  it('writes what drizzle writes: the same usage rows, defaults, booleans and rollups', async () => {
    const viaDrizzle = await openFile('drizzle.db')
    const viaPrepared = await openFile('prepared.db')
    const inserter = (await usageFileInserterFor(viaPrepared.url, viaPrepared.client))!
    expect(inserter).toBeDefined()
    const batch = rows(60, 'u')
    await insertUsageRows(viaDrizzle.db, batch)
    await inserter.insert(batch.slice(0, 25))
    await inserter.insert(batch.slice(25))
    inserter.close()
    const [want, got] = [await usageTables(viaDrizzle.client), await usageTables(viaPrepared.client)]
    expect(Object.keys(want).length).toBeGreaterThan(1) // usage and at least one rollup
    expect(want.usage).toHaveLength(60)
    expect(got).toEqual(want)
    const types = await viaPrepared.client.execute("select distinct typeof(cost_nano_usd) as c, typeof(streamed) as s, typeof(prompt_tokens) as p from usage")
    expect(types.rows.map((r) => ({ ...r }))).toEqual([{ c: 'integer', s: 'integer', p: 'integer' }])
  })

  it('rolls up what drizzle rolls up across days, batches interleaved with drizzle inserts into the same file', async () => {
    const viaTrigger = await openFile('trigger.db')
    const mixed = await openFile('mixed.db')
    const inserter = (await usageFileInserterFor(mixed.url, mixed.client))!
    // 3 days of rows, 97 s apart and then 41 min apart, so batches hold many hours and days.
    const all = [...rows(40, 'd'), ...rows(80, 'e').map((r, i) => ({ ...r, createdAt: T0 + i * 41 * 60_000 }))]
    await insertUsageRows(viaTrigger.db, all)
    await insertUsageRows(mixed.db, all.slice(0, 15))
    await inserter.insert(all.slice(15, 70))
    await insertUsageRows(mixed.db, all.slice(70, 90))
    await inserter.insert(all.slice(90))
    inserter.close()
    const [want, got] = [await usageTables(viaTrigger.client), await usageTables(mixed.client)]
    expect(new Set((want.usage_daily as Array<{ day_start: number }>).map((r) => r.day_start)).size).toBeGreaterThanOrEqual(3)
    expect(got).toEqual(want)
  })

  it('ignores a row written twice (a retry after a lost reply) and counts it once in the rollups', async () => {
    const { url, client } = await openFile('retry.db')
    const inserter = (await usageFileInserterFor(url, client))!
    const batch = rows(10, 'r')
    await inserter.insert(batch)
    const before = await usageTables(client)
    await inserter.insert(batch.slice(3, 8))
    expect(await usageTables(client)).toEqual(before)
    inserter.close()
  })

  it('writes all rows of a batch or none: a refused row rolls the batch back and the next batch still goes in', async () => {
    const { url, client } = await openFile('atomic.db')
    const inserter: UsageFileInserter = (await usageFileInserterFor(url, client))!
    const batch = rows(6, 'a')
    const refused = { ...batch[4]!, status: null as unknown as number } // NOT NULL
    await expect(inserter.insert([...batch.slice(0, 4), refused, batch[5]!])).rejects.toThrow(/NOT NULL/i)
    expect((await client.execute('select count(*) as n from usage')).rows[0]!.n).toBe(0)
    await inserter.insert(batch)
    expect((await client.execute('select count(*) as n from usage')).rows[0]!.n).toBe(6)
    inserter.close()
  })

  it('is used only for a plain local file: in-memory, remote and optioned databases keep the client', async () => {
    const memory = await openNodeDb('file::memory:')
    dbs.push(memory)
    expect(await usageFileInserterFor('file::memory:', memory.client)).toBeUndefined()
    // A remote URL is refused before any query: the client is never asked for its file.
    const refuse = { execute: () => Promise.reject(new Error('asked a remote client for its file')) } as unknown as Client
    expect(await usageFileInserterFor('libsql://db.example.turso.io', refuse)).toBeUndefined()
    expect(await usageFileInserterFor('http://127.0.0.1:8080', refuse)).toBeUndefined()
    // Nor a file URL with options (read-only, say): the client honours them, a second connection would not.
    expect(await usageFileInserterFor(`file:${join(dir, 'retry.db')}?mode=ro`, refuse)).toBeUndefined()
  })

  it('binds one value per column, in the statement\'s column order', () => {
    const placeholders = USAGE_INSERT_SQL.match(/\?/g)!.length
    const [full, sparse] = rows(2, 'p').map(usageInsertArgs)
    expect(full).toHaveLength(placeholders)
    const columnList = /\(([^)]*)\) values/.exec(USAGE_INSERT_SQL)![1]!.split(', ').map((c) => c.replaceAll('"', ''))
    const at = (args: unknown[], column: string) => args[columnList.indexOf(column)]
    expect([at(full!, 'id'), at(full!, 'streamed'), at(full!, 'backend_host'), at(full!, 'cost_nano_usd'), at(full!, 'ttft_ms')]).toEqual(['p0', 1, 'box1', 31_000_000_123, null])
    // Left out: the column's default where it has one, null where it has none.
    expect([at(sparse!, 'id'), at(sparse!, 'streamed'), at(sparse!, 'prompt_tokens'), at(sparse!, 'backend_host'), at(sparse!, 'status')]).toEqual(['p1', 0, 0, null, 429])
  })
})
