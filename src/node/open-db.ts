import { createClient, type Client } from '@libsql/client'
import { drizzle } from 'drizzle-orm/libsql'
import { migrate } from 'drizzle-orm/libsql/migrator'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { GatewayDb } from '../db/client.js'
import * as schema from '../db/schema.js'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url))

/**
 * Opens a libSQL database from Node (`file:` path or a sqld/Turso URL) and applies
 * migrations. Node-only: the drizzle migrator reads files, which workerd cannot.
 */
export async function openNodeDb(url: string, opts: { authToken?: string; migrate?: boolean } = {}): Promise<{ db: GatewayDb; client: Client }> {
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length)
    if (path && path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true })
  }
  const client = createClient({ url, authToken: opts.authToken })
  if (url.startsWith('file:')) {
    // WAL lets dashboards read while the usage writer writes; busy_timeout rides out short locks.
    await client.execute('PRAGMA journal_mode = WAL')
    await client.execute('PRAGMA busy_timeout = 5000')
    // In WAL mode NORMAL still survives process crashes; it skips the fsync per commit that
    // would otherwise stall Node's event loop (libsql's file driver runs on the main thread).
    await client.execute('PRAGMA synchronous = NORMAL')
  }
  const db = drizzle(client, { schema })
  if (opts.migrate !== false) await migrate(db, { migrationsFolder: MIGRATIONS_DIR })
  return { db, client }
}
