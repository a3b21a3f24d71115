/**
 * Node-only: usage rows into a `file:` database through one prepared INSERT kept for the process's
 * life. @libsql/client prepares every statement it runs, and preparing the usage INSERT compiles the
 * rollup trigger too: in 150-row batches, 170 µs of CPU per row in drizzle's 40-row statements,
 * 48 µs prepared once (benchUsageWriter shows the rows/s). A second connection to the same file is
 * safe: the file is in WAL mode and both connections wait on locks.
 */
import type { Client } from '@libsql/client'
import Database from 'libsql'
import type { GatewayDb } from '../db/client.js'
import type { UsageRow } from '../db/schema.js'
import { insertUsageRows } from '../db/usage.js'
import { USAGE_INSERT_SQL, usageInsertArgs, type UsageArg } from '../db/usage-insert.js'

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
export async function usageFileInserterFor(url: string, client: Client): Promise<UsageFileInserter | undefined> {
  // Options in the URL (mode=ro, encryption) are the client's to honour: such databases keep the client.
  if (!url.startsWith('file:') || url.includes('?')) return undefined
  const main = await client.execute("select file from pragma_database_list where name = 'main'")
  const path = main.rows[0]?.file
  return typeof path === 'string' && path !== '' ? openUsageFileInserter(path) : undefined
}

function openUsageFileInserter(path: string): UsageFileInserter {
  const db = new Database(path)
  db.exec('PRAGMA busy_timeout = 5000')
  db.exec('PRAGMA synchronous = NORMAL')
  const insertOne = db.prepare<[UsageArg[]]>(USAGE_INSERT_SQL)
  return {
    async insert(rows) {
      if (rows.length === 0) return
      db.exec('BEGIN IMMEDIATE')
      try {
        for (const row of rows) insertOne.run(usageInsertArgs(row))
        db.exec('COMMIT')
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK')
        throw err
      }
    },
    close: () => db.close(),
  }
}

/** How a Node gateway writes usage rows: prepared once into a local file, else through drizzle and the client. */
export async function nodeUsageWrite(url: string, db: GatewayDb, client: Client): Promise<{ write: (rows: UsageRow[]) => Promise<void>; close: () => void }> {
  const inserter = await usageFileInserterFor(url, client)
  if (inserter) return { write: (rows) => inserter.insert(rows), close: () => inserter.close() }
  return { write: (rows) => insertUsageRows(db, rows), close: () => {} }
}
