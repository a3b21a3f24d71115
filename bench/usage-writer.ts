/**
 * Usage-row write throughput: BatchingUsageWriter with the gateway's own write (src/node.ts: one
 * INSERT prepared once, into a libSQL file; drizzle's 40-row statements, to sqld) vs a baseline of raw
 * `client.batch` of single-row INSERTs, which the client prepares again for every row, 500 rows per
 * batch. Same rows, same database, rounds interleaved (A B, B A, ...), into a libSQL file and into a
 * real sqld on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Client, InStatement } from '@libsql/client'
import { openNodeDb } from '../src/node/open-db.js'
import type { UsageRow } from '../src/db/schema.js'
import { insertUsageRows } from '../src/db/usage.js'
import { nodeUsageWrite, usageFileInserterFor } from '../src/node/usage-file-inserter.js'
import { USAGE_INSERT_SQL, usageInsertArgs } from '../src/db/usage-insert.js'
import { silentLogger } from '../src/log.js'
import { BatchingUsageWriter } from '../src/metering/batching-writer.js'
import { startSqld } from '../test/support/sqld.js'
import { spread } from './support.js'

const BATCH_ROWS = 500

let seq = 0
/** Rows shaped like a streamed hosted request's. */
function usageRows(n: number): UsageRow[] {
  const now = Date.now()
  return Array.from({ length: n }, (_, i) => ({
    id: `bench_${process.pid}_${++seq}`, teamId: `team_${i % 20}`, keyId: `key_${i % 100}`, createdAt: now + i,
    requestedModel: 'deepseek-flash', backend: 'hosted', upstreamModel: 'deepseek-v4-flash',
    promptTokens: 120 + (i % 50), cacheHitTokens: 64, cacheMissTokens: 56 + (i % 50), completionTokens: 200 + (i % 300), reasoningTokens: 0,
    costNanoUsd: 31_000 + i, latencyMs: 900 + (i % 400), ttftMs: 150 + (i % 60), status: 200, errorCode: null,
    streamed: true, fellBack: false, fallbackReason: null, attempts: 1, usageEstimated: false, clientAborted: false,
  }))
}

function insertStatement(r: UsageRow): InStatement {
  return { sql: USAGE_INSERT_SQL, args: usageInsertArgs(r) }
}

/** Per round: the baseline's rows/s (raw), the candidate's (writer) and candidate / baseline. */
interface Comparison {
  raw: number[]
  writer: number[]
  ratio: number[]
}

/** Rows/s through the gateway's writer: record every row, then wait for the flush. */
async function writerRowsPerSecond(write: (rows: UsageRow[]) => Promise<void>, rows: UsageRow[]): Promise<number> {
  const writer = new BatchingUsageWriter({ write, log: silentLogger })
  const started = performance.now()
  for (const row of rows) writer.record(row)
  const left = await writer.flush(120_000)
  if (left > 0) throw new Error(`writer left ${left} rows unwritten`)
  return rows.length / ((performance.now() - started) / 1000)
}

/** Rows/s of the baseline: raw prepared INSERTs, one batch (transaction) per 500 rows, in sequence. */
async function rawRowsPerSecond(client: Client, rows: UsageRow[]): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < rows.length; i += BATCH_ROWS) await client.batch(rows.slice(i, i + BATCH_ROWS).map(insertStatement), 'write')
  return rows.length / ((performance.now() - started) / 1000)
}

type RowsPerSecond = (rows: UsageRow[]) => Promise<number>

/** Rows/s of a baseline and a candidate on fresh rows, each warmed up once, rounds interleaved (A B, B A, ...). */
async function interleaved(rounds: number, rowsPerRound: number, baseline: RowsPerSecond, candidate: RowsPerSecond): Promise<Comparison> {
  const out: Comparison = { raw: [], writer: [], ratio: [] }
  await candidate(usageRows(Math.min(1000, rowsPerRound))) // warm-up: JIT, connection, page cache
  await baseline(usageRows(Math.min(1000, rowsPerRound)))
  for (let r = 0; r < rounds; r++) {
    const rates = new Map<RowsPerSecond, number>()
    for (const run of r % 2 === 0 ? [candidate, baseline] : [baseline, candidate]) rates.set(run, await run(usageRows(rowsPerRound)))
    out.raw.push(rates.get(baseline)!)
    out.writer.push(rates.get(candidate)!)
    out.ratio.push(rates.get(candidate)! / rates.get(baseline)!)
  }
  return out
}

/** The gateway's own write (src/node.ts: one prepared INSERT into a local file, drizzle's batches to sqld) vs raw client.batch. */
async function measure(url: string, rounds: number, rowsPerRound: number): Promise<Comparison> {
  const { db, client } = await openNodeDb(url)
  const usageWrite = await nodeUsageWrite(url, db, client)
  try {
    return await interleaved(rounds, rowsPerRound, (rows) => rawRowsPerSecond(client, rows), (rows) => writerRowsPerSecond(usageWrite.write, rows))
  } finally {
    usageWrite.close()
    client.close()
  }
}

/**
 * What the rollup trigger (five upserts per row, migrations/0011) costs the write path: the same
 * raw INSERTs into two libSQL files, without the trigger (baseline) and with it.
 */
async function measureTrigger(dir: string, rounds: number, rowsPerRound: number): Promise<Comparison> {
  const withTrigger = await openNodeDb(`file:${join(dir, 'with-trigger.db')}`)
  const without = await openNodeDb(`file:${join(dir, 'without-trigger.db')}`)
  await without.client.execute('DROP TRIGGER usage_rollup')
  try {
    return await interleaved(rounds, rowsPerRound, (rows) => rawRowsPerSecond(without.client, rows), (rows) => rawRowsPerSecond(withTrigger.client, rows))
  } finally {
    withTrigger.client.close()
    without.client.close()
  }
}

/**
 * What preparing the INSERT once buys on a libSQL file: the writer through drizzle's 40-row statements
 * (what the gateway used before, and still uses for sqld) vs through the prepared inserter, same file.
 */
async function measurePrepared(url: string, rounds: number, rowsPerRound: number): Promise<Comparison> {
  const { db, client } = await openNodeDb(url)
  const prepared = await nodeUsageWrite(url, db, client)
  try {
    return await interleaved(rounds, rowsPerRound, (rows) => writerRowsPerSecond((batch) => insertUsageRows(db, batch), rows), (rows) => writerRowsPerSecond(prepared.write, rows))
  } finally {
    prepared.close()
    client.close()
  }
}

/**
 * What summing a batch's rollups per key buys the file writer: its rollups added by the trigger row by
 * row (baseline) vs summed per key (src/db/rollup-batch.ts), same file, 100 (team, key) pairs in the rows.
 */
async function measureSummed(url: string, rounds: number, rowsPerRound: number): Promise<Comparison> {
  const { client } = await openNodeDb(url)
  const [byTrigger, summed] = [await usageFileInserterFor(url, client, { minRowsPerGroup: Infinity }), await usageFileInserterFor(url, client)]
  try {
    return await interleaved(rounds, rowsPerRound, (rows) => writerRowsPerSecond((batch) => byTrigger!.insert(batch), rows), (rows) => writerRowsPerSecond((batch) => summed!.insert(batch), rows))
  } finally {
    byTrigger?.close()
    summed?.close()
    client.close()
  }
}

export interface UsageWriterResult {
  rows: Array<[string, string, string, string]>
}

export async function benchUsageWriter(opts: { rounds?: number; rowsPerRound?: number } = {}): Promise<UsageWriterResult> {
  const rounds = opts.rounds ?? 5
  const rowsPerRound = opts.rowsPerRound ?? 10_000
  const dir = mkdtempSync(join(tmpdir(), 'moe-bench-usage-'))
  const sqld = await startSqld({ dbPath: join(dir, 'sqld') })
  try {
    const file = await measure(`file:${join(dir, 'usage.db')}`, rounds, rowsPerRound)
    const remote = await measure(sqld.url, rounds, rowsPerRound)
    const row = (name: string, m: Comparison): [string, string, string, string] => [name, spread(m.raw, 0), spread(m.writer, 0), `ratio ${spread(m.ratio, 3)}`]
    const trigger = await measureTrigger(dir, rounds, rowsPerRound)
    const prepared = await measurePrepared(`file:${join(dir, 'prepared.db')}`, rounds, rowsPerRound)
    const summed = await measureSummed(`file:${join(dir, 'summed.db')}`, rounds, rowsPerRound)
    const triggerRow = row(`rollup trigger cost, libSQL file: raw INSERTs without the trigger (baseline column) vs with it (writer column), ${rowsPerRound} rows x ${rounds} rounds`, trigger)
    return { rows: [row(`libSQL file (WAL), ${rowsPerRound} rows x ${rounds} rounds`, file), row(`sqld on loopback, ${rowsPerRound} rows x ${rounds} rounds`, remote), row(`libSQL file: the writer through drizzle's 40-row statements (baseline column) vs one INSERT prepared once (writer column), ${rowsPerRound} rows x ${rounds} rounds`, prepared), row(`libSQL file: the prepared writer with rollups by the trigger, row by row (baseline column) vs summed per key (writer column), ${rowsPerRound} rows x ${rounds} rounds`, summed), triggerRow] }
  } finally {
    await sqld.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
