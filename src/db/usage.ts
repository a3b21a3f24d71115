import type { GatewayDb } from './client.js'
import { usage, type UsageRow } from './schema.js'

// SQLite caps bound parameters per statement; 24 columns x 40 rows stays under 999.
const ROWS_PER_STATEMENT = 40

/**
 * Inserts usage rows in one transaction (batch). Rows carry their own ids, so
 * writing the same row twice (a retry after a lost reply) is a no-op.
 */
export async function insertUsageRows(db: GatewayDb, rows: readonly UsageRow[]): Promise<void> {
  if (rows.length === 0) return
  const statements = []
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    statements.push(db.insert(usage).values(rows.slice(i, i + ROWS_PER_STATEMENT)).onConflictDoNothing({ target: usage.id }))
  }
  const [first, ...rest] = statements
  if (!first) return
  await db.batch([first, ...rest])
}
