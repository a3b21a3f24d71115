/**
 * Node-only: usage rows into a `file:` database through statements prepared once for the process's
 * life. @libsql/client prepares every statement it runs, and preparing the usage INSERT compiles the
 * rollup trigger too: in 150-row batches, 170 µs of CPU per row in drizzle's 40-row statements,
 * 48 µs prepared once (benchUsageWriter shows the rows/s). Of what was left, the trigger's per-row
 * sums and five upserts were more than half, so a batch defers the trigger and adds its rows summed per
 * key instead (src/db/rollup-batch.ts), and rows go in up to 32 to a statement. A second connection
 * to the same file is safe: the file is in WAL mode and both connections wait on locks.
 */
import type { Client } from '@libsql/client'
import Database from 'libsql'
import type { GatewayDb } from '../db/client.js'
import type { UsageRow } from '../db/schema.js'
import { insertUsageRows } from '../db/usage.js'
import { rollupGroups, RollupSumOverflow, type RollupSums } from '../db/rollup-batch.js'
import { groupUpsertSql, ROLLUP_DEFERRED_TABLE, ROLLUPS } from '../db/rollup-sql.js'
import { USAGE_INSERT_CHUNK_ROWS, USAGE_INSERT_SQL, usageInsertArgs, usageInsertSql, type UsageArg } from '../db/usage-insert.js'

export interface UsageFileInserter {
  /** All rows in one transaction, or none of them. */
  insert(rows: readonly UsageRow[]): Promise<void>
  close(): void
}

/**
 * The inserter for the database `client` opened, when that is a local file: its path comes from the
 * client's own connection, so both connections are sure to share one file. In-memory and remote
 * databases (sqld, Turso), and file URLs with options, get none and keep writing through the client.
 */
export async function usageFileInserterFor(url: string, client: Client, opts: InserterOptions = {}): Promise<UsageFileInserter | undefined> {
  // Options in the URL (mode=ro, encryption) are the client's to honour: such databases keep the client.
  if (!url.startsWith('file:') || url.includes('?')) return undefined
  const main = await client.execute("select file from pragma_database_list where name = 'main'")
  const path = main.rows[0]?.file
  return typeof path === 'string' && path !== '' ? openUsageFileInserter(path, opts.minRowsPerGroup ?? MIN_ROWS_PER_GROUP) : undefined
}

export interface InserterOptions {
  /** Sum a batch's rollups here only with at least this many rows per finest group (0: always; Infinity: never). */
  minRowsPerGroup?: number
}

function openUsageFileInserter(path: string, minRowsPerGroup: number): UsageFileInserter {
  const db = new Database(path)
  db.exec('PRAGMA busy_timeout = 5000')
  db.exec('PRAGMA synchronous = NORMAL')
  const insertOne = db.prepare<[UsageArg[]]>(USAGE_INSERT_SQL)
  const insertChunk = db.prepare<[UsageArg[]]>(usageInsertSql(USAGE_INSERT_CHUNK_ROWS))
  const defer = db.prepare(`insert into ${ROLLUP_DEFERRED_TABLE} (writer) values (1)`)
  const undefer = db.prepare(`delete from ${ROLLUP_DEFERRED_TABLE}`)
  const upserts = new Map(ROLLUPS.map((t) => [t, db.prepare<[UsageArg[]]>(groupUpsertSql(t))]))

  /** Runs `body` in one write transaction: committed when it returns true, rolled back when false or it throws. */
  const transaction = (body: () => boolean): boolean => {
    db.exec('BEGIN IMMEDIATE')
    try {
      const commit = body()
      db.exec(commit ? 'COMMIT' : 'ROLLBACK')
      return commit
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK')
      throw err
    }
  }

  /**
   * Every row, a chunk of rows to a statement (measured 11.8 vs 14.4 µs of CPU per row, one row to a
   * statement, in 500-row batches summed per key); returns how many went in (duplicates do not).
   */
  const insertChunked = (rows: readonly UsageArg[][]): number => {
    const n = USAGE_INSERT_CHUNK_ROWS
    let inserted = 0
    let i = 0
    for (; i + n <= rows.length; i += n) inserted += insertChunk.run(rows.slice(i, i + n).flat()).changes
    for (; i < rows.length; i++) inserted += insertOne.run(rows[i]!).changes
    return inserted
  }

  const addSums = (sums: RollupSums) => {
    for (const { table, groups } of sums) for (const g of groups) upserts.get(table)!.run([...g.key, ...g.sums])
  }

  /** The batch's rows, and the rollups: summed per key here (`sums`), or by the trigger row by row. */
  const insertBatch = (rows: readonly UsageArg[][], sums: RollupSums | undefined) => {
    // The trigger counts only the rows it inserts, so duplicates need no care on that path.
    if (!sums) return void transaction(() => (insertChunked(rows), true))
    const summed = transaction(() => {
      defer.run()
      if (insertChunked(rows) !== rows.length) return false
      addSums(sums)
      undefer.run()
      return true
    })
    if (summed) return
    // A duplicate (a retried row), already counted: rows again one by one, to sum only those inserted.
    transaction(() => {
      defer.run()
      addSums(rollupGroups(rows.filter((args) => insertOne.run(args).changes === 1))!)
      undefer.run()
      return true
    })
  }

  return {
    async insert(rows) {
      if (rows.length === 0) return
      const args = rows.map(usageInsertArgs)
      let sums: RollupSums | undefined
      try {
        // Too many keys for the rows (fewer than minRowsPerGroup each): undefined, the trigger adds them.
        sums = rollupGroups(args, rows.length / minRowsPerGroup)
      } catch (err) {
        // Sums past 2^53 are not exact as doubles: SQLite's integers add those rows instead.
        if (!(err instanceof RollupSumOverflow)) throw err
      }
      insertBatch(args, sums)
    },
    close: () => db.close(),
  }
}

/**
 * Summing pays when keys repeat: a group costs an upsert per table, its 76 values bound from JavaScript,
 * where the trigger's row costs its expressions inside SQLite. CPU µs per row, trigger vs sums, measured
 * side by side: 32 rows of one key 31 vs 16, 400 rows of 50 keys 28 vs 20, 32 rows of 32 keys 39 vs 75.
 * So a batch is summed here with at least 3 rows per finest (hourly) group.
 */
const MIN_ROWS_PER_GROUP = 3

/** How a Node gateway writes usage rows: prepared once into a local file, else through drizzle and the client. */
export async function nodeUsageWrite(url: string, db: GatewayDb, client: Client): Promise<{ write: (rows: UsageRow[]) => Promise<void>; close: () => void }> {
  const inserter = await usageFileInserterFor(url, client)
  if (inserter) return { write: (rows) => inserter.insert(rows), close: () => inserter.close() }
  return { write: (rows) => insertUsageRows(db, rows), close: () => {} }
}
