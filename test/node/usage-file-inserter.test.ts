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
import { LATENCY_BUCKET_BOUNDS_MS } from '../../src/metering/latency-buckets.js'
import { mulberry32 } from '../../node-host/gguf/prng.js'

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

/** Every usage table (usage, the rollups, the trigger's deferral marker), all rows, in order. */
async function usageTables(client: Client): Promise<Record<string, unknown[]>> {
  const tables = await client.execute("select name from sqlite_master where type = 'table' and name like 'usage%' order by name")
  const out: Record<string, unknown[]> = {}
  for (const { name } of tables.rows) {
    const columns = (await client.execute(`select count(*) as n from pragma_table_info('${String(name)}')`)).rows[0]!.n as number
    const all = await client.execute(`select * from "${String(name)}" order by ${Array.from({ length: Math.min(4, columns) }, (_, i) => i + 1).join(', ')}`)
    out[String(name)] = all.rows.map((r) => ({ ...r }))
  }
  return out
}

/** Rollups summed by the inserter for every batch, never (the trigger adds each row), and as it picks. */
const MODES = [['summed per key', 0], ['by the trigger', Infinity], ['as the inserter picks', undefined]] as const

describe('usage rows through one prepared INSERT (file: databases on Node)', () => {
  it.each(MODES)('writes what drizzle writes: the same usage rows, defaults, booleans and rollups (rollups %s)', async (mode, minRowsPerGroup) => {
    const viaDrizzle = await openFile(`drizzle-${mode}.db`)
    const viaPrepared = await openFile(`prepared-${mode}.db`)
    const inserter = (await usageFileInserterFor(viaPrepared.url, viaPrepared.client, { minRowsPerGroup }))!
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

  it.each(MODES)('rolls up what drizzle rolls up across days, batches interleaved with drizzle inserts into the same file (rollups %s)', async (mode, minRowsPerGroup) => {
    const viaTrigger = await openFile(`trigger-${mode}.db`)
    const mixed = await openFile(`mixed-${mode}.db`)
    const inserter = (await usageFileInserterFor(mixed.url, mixed.client, { minRowsPerGroup }))!
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

  it.each(MODES)('sums rows per key as the trigger does row by row: every latency bucket and its bounds, decode rules, nulls, repeats in a batch (rollups %s)', async (mode, minRowsPerGroup) => {
    const viaTrigger = await openFile(`random-trigger-${mode}.db`)
    const viaSums = await openFile(`random-sums-${mode}.db`)
    const inserter = (await usageFileInserterFor(viaSums.url, viaSums.client, { minRowsPerGroup }))!
    const rnd = mulberry32(7)
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
    // Each bound, one below it, and values between, up to past the last bound.
    const latencies = LATENCY_BUCKET_BOUNDS_MS.flatMap((b) => [b - 1, b, b + 3]).concat([0, 1, 200_000])
    const all: UsageRow[] = Array.from({ length: 400 }, (_, i) => ({
      id: `x${i}`, teamId: pick(['team_a', 'team_b']), keyId: pick(['k1', 'k2', 'k3']), createdAt: T0 + Math.floor(rnd() * 3 * 86_400_000),
      status: pick([200, 200, 200, 400, 429, 502]), requestedModel: pick(['deepseek-chat', null, undefined]), backend: pick(['local', 'hosted', null]),
      backendHost: pick(['box1', null]), latencyMs: pick(latencies), ttftMs: pick([...latencies, null, null]), completionTokens: pick([0, 1, 2, 57]),
      promptTokens: Math.floor(rnd() * 5000), costNanoUsd: Math.floor(rnd() * 2 ** 40), busyMs: pick([null, 17]), fellBack: rnd() < 0.3, clientAborted: rnd() < 0.2,
      localCostNanoUsd: pick([0, 12_345]), hostedEquivNanoUsd: Math.floor(rnd() * 1e9), reasoningTokens: pick([0, 9]), cacheHitTokens: 64, cacheMissTokens: 3,
    }))
    await insertUsageRows(viaTrigger.db, all)
    await inserter.insert([...all.slice(0, 150), all[3]!, all[3]!]) // a row twice in one batch counts once
    await inserter.insert([...all.slice(100, 400)]) // 50 retried rows from the last batch: counted once
    inserter.close()
    const [want, got] = [await usageTables(viaTrigger.client), await usageTables(viaSums.client)]
    const buckets = (want.usage_hourly as Array<Record<string, number>>).reduce((seen, r) => seen + Object.keys(r).filter((c) => /^(lat|ttft)_\d+$/.test(c) && r[c]! > 0).length, 0)
    expect(buckets).toBeGreaterThan(48) // many buckets are filled, not just one or two
    expect((want.usage_daily as Array<{ decode_tokens: number }>).some((r) => r.decode_tokens > 0)).toBe(true)
    expect(got).toEqual(want)
  })

  it('lets the trigger add a batch whose sums leave the range doubles hold exactly', async () => {
    const viaTrigger = await openFile('big-trigger.db')
    const viaSums = await openFile('big-sums.db')
    const inserter = (await usageFileInserterFor(viaSums.url, viaSums.client, { minRowsPerGroup: 0 }))!
    const big = rows(3, 'b').map((r) => ({ ...r, teamId: 'team_0', keyId: 'key_0', createdAt: T0, requestedModel: 'm', backend: 'hosted', backendHost: null, costNanoUsd: 2 ** 52 + 1 })) // one group; 3 x 2^52 is past 2^53
    await insertUsageRows(viaTrigger.db, big)
    await inserter.insert(big)
    inserter.close()
    const exact = async (c: Client) => (await c.execute('select count(*) as n, cast(sum(cost_nano_usd) as text) as s from usage_hourly')).rows.map((r) => [Number(r.n), String(r.s)])
    expect(await exact(viaSums.client)).toEqual([[1, String(3n * (2n ** 52n + 1n))]])
    expect(await exact(viaSums.client)).toEqual(await exact(viaTrigger.client))
  })

  it.each(MODES)('ignores a row written twice (a retry after a lost reply) and counts it once in the rollups (rollups %s)', async (mode, minRowsPerGroup) => {
    const { url, client } = await openFile(`retry-${mode}.db`)
    const inserter = (await usageFileInserterFor(url, client, { minRowsPerGroup }))!
    const batch = rows(10, 'r')
    await inserter.insert(batch)
    const before = await usageTables(client)
    await inserter.insert(batch.slice(3, 8))
    expect(await usageTables(client)).toEqual(before)
    inserter.close()
  })

  it.each(MODES)('writes all rows of a batch or none: a refused row rolls the batch back and the next batch still goes in (rollups %s)', async (mode, minRowsPerGroup) => {
    const { url, client } = await openFile(`atomic-${mode}.db`)
    const inserter: UsageFileInserter = (await usageFileInserterFor(url, client, { minRowsPerGroup }))!
    const batch = rows(6, 'a')
    const refused = { ...batch[4]!, status: null as unknown as number } // NOT NULL
    await expect(inserter.insert([...batch.slice(0, 4), refused, batch[5]!])).rejects.toThrow(/NOT NULL/i)
    const count = async (table: string) => (await client.execute(`select count(*) as n from ${table}`)).rows[0]!.n
    expect([await count('usage'), await count('usage_hourly'), await count('usage_rollup_deferred')]).toEqual([0, 0, 0])
    await inserter.insert(batch)
    expect(await count('usage')).toBe(6)
    inserter.close()
    // The trigger is live again for other writers: nothing was left deferred.
    const { db } = await openFile(`atomic-${mode}.db`)
    await insertUsageRows(db, rows(3, 'z'))
    expect((await client.execute('select sum(requests) as n from usage_hourly')).rows[0]!.n).toBe(9)
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
    expect(await usageFileInserterFor(`file:${join(dir, 'retry-by the trigger.db')}?mode=ro`, refuse)).toBeUndefined()
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
