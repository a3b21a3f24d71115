import { sql } from 'drizzle-orm'
import type { GatewayDb } from './client.js'

/** Rows per DELETE: short statements, so the usage writer is never locked out for long. */
const ROWS_PER_DELETE = 5000

export interface RetentionResult {
  deleted: number
  /** False when maxRows stopped it early: more old rows wait for the next run. */
  complete: boolean
}

/**
 * Deletes raw usage rows created before `cutoffMs`, oldest first, in short batches. Their sums
 * stay in usage_hourly (the rollup trigger fires on insert only), so dashboards and budgets
 * don't change; only the per-request detail (recent table, usage CSV, /v1/usage) goes.
 */
export async function deleteUsageBefore(db: GatewayDb, cutoffMs: number, opts: { maxRows?: number } = {}): Promise<RetentionResult> {
  const maxRows = opts.maxRows ?? Number.POSITIVE_INFINITY
  // Team by team, so each batch walks the (team_id, created_at) index instead of scanning the table.
  const teams = await db.all<{ team_id: string }>(sql`select distinct team_id from usage_hourly where hour_start < ${cutoffMs}`)
  let deleted = 0
  for (const { team_id: teamId } of teams) {
    for (;;) {
      if (deleted >= maxRows) return { deleted, complete: false }
      const batch = Math.min(ROWS_PER_DELETE, maxRows - deleted)
      const result = await db.run(sql`delete from usage where rowid in (select rowid from usage where team_id = ${teamId} and created_at < ${cutoffMs} limit ${batch})`)
      deleted += result.rowsAffected
      if (result.rowsAffected < batch) break
    }
  }
  return { deleted, complete: true }
}
