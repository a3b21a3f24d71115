/**
 * Budget holds: the worst-case cost of requests in flight, reserved before they go upstream.
 *
 * A hold is placed by ONE conditional INSERT ... SELECT ... WHERE spent + live holds + amount
 * <= limit. SQLite runs a writing statement under the database's write lock from its first
 * step, so the check and the insert cannot interleave with another writer: not in one
 * process, not across gateway processes or Worker isolates sharing sqld/Turso.
 */
import { sql, type SQL } from 'drizzle-orm'
import type { GatewayDb } from './client.js'

export interface HoldRequest {
  holdId: string
  budgetId: string
  periodStartMs: number
  amountNanoUsd: number
}

/** A budget's state in one period, read in the same transaction as the holds. */
export interface BudgetUse {
  budgetId: string
  limitNanoUsd: number
  softLimitNanoUsd: number | null
  spentNanoUsd: number
  /** Live (unexpired) holds, this request's included when it was placed. */
  heldNanoUsd: number
}

// Expired holds are kept this long, so a settle that runs late still finds its hold and counts the cost.
const EXPIRED_HOLD_GRACE_MS = 24 * 3_600_000

function placeHold(hold: HoldRequest, expiresAtMs: number, nowMs: number, after: string | undefined): SQL {
  // Chained on the previous hold: with a team and a key budget, both are placed or neither.
  const previousPlaced = after === undefined ? sql`1` : sql`EXISTS (SELECT 1 FROM budget_holds WHERE id = ${after})`
  return sql`INSERT INTO budget_holds (id, budget_id, period_start, amount_nano_usd, expires_at)
    SELECT ${hold.holdId}, ${hold.budgetId}, ${hold.periodStartMs}, ${hold.amountNanoUsd}, ${expiresAtMs}
    WHERE ${previousPlaced}
      AND COALESCE((SELECT spent_nano_usd FROM budget_spend WHERE budget_id = ${hold.budgetId} AND period_start = ${hold.periodStartMs}), 0)
        + COALESCE((SELECT SUM(amount_nano_usd) FROM budget_holds WHERE budget_id = ${hold.budgetId} AND period_start = ${hold.periodStartMs} AND expires_at > ${nowMs}), 0)
        + ${hold.amountNanoUsd}
        <= (SELECT limit_nano_usd FROM budgets WHERE id = ${hold.budgetId})`
}

/** One row: the budget's limits, spend and live holds in the period starting at `periodStartMs`. */
export function budgetUseQuery(budgetId: string, periodStartMs: number, nowMs: number): SQL {
  return sql`SELECT id AS budgetId, limit_nano_usd AS limitNanoUsd, soft_limit_nano_usd AS softLimitNanoUsd,
      COALESCE((SELECT spent_nano_usd FROM budget_spend WHERE budget_id = ${budgetId} AND period_start = ${periodStartMs}), 0) AS spentNanoUsd,
      COALESCE((SELECT SUM(amount_nano_usd) FROM budget_holds WHERE budget_id = ${budgetId} AND period_start = ${periodStartMs} AND expires_at > ${nowMs}), 0) AS heldNanoUsd
    FROM budgets WHERE id = ${budgetId}`
}

function toUse(row: Record<string, unknown> | undefined): BudgetUse | undefined {
  if (!row) return undefined
  return {
    budgetId: String(row.budgetId),
    limitNanoUsd: Number(row.limitNanoUsd),
    softLimitNanoUsd: row.softLimitNanoUsd === null ? null : Number(row.softLimitNanoUsd),
    spentNanoUsd: Number(row.spentNanoUsd),
    heldNanoUsd: Number(row.heldNanoUsd),
  }
}

export async function readBudgetUse(db: GatewayDb, budgetId: string, periodStartMs: number, nowMs: number): Promise<BudgetUse | undefined> {
  return toUse(await db.get<Record<string, unknown>>(budgetUseQuery(budgetId, periodStartMs, nowMs)))
}

/**
 * Places all `holds` or none, in one transaction (one round trip), and reads each budget's use
 * after it. `uses[i]` is undefined when budget i no longer exists.
 */
export async function reserveHolds(
  db: GatewayDb,
  holds: readonly HoldRequest[],
  opts: { nowMs: number; expiresAtMs: number },
): Promise<{ placed: boolean; uses: Array<BudgetUse | undefined> }> {
  const first = holds[0]
  if (!first) return { placed: true, uses: [] }
  const last = holds[holds.length - 1]!
  const inserts = holds.map((h, i) => db.run(placeHold(h, opts.expiresAtMs, opts.nowMs, holds[i - 1]?.holdId)))
  const earlierIds = holds.slice(0, -1).map((h) => h.holdId)
  const budgetIds = holds.map((h) => h.budgetId)
  const statements = [
    ...inserts,
    // All or nothing: drop the earlier holds if the last one could not be placed.
    db.run(sql`DELETE FROM budget_holds WHERE id IN (${sql.join(earlierIds.length ? earlierIds.map((id) => sql`${id}`) : [sql`NULL`], sql`, `)}) AND NOT EXISTS (SELECT 1 FROM budget_holds WHERE id = ${last.holdId})`),
    db.run(sql`DELETE FROM budget_holds WHERE budget_id IN (${sql.join(budgetIds.map((id) => sql`${id}`), sql`, `)}) AND expires_at < ${opts.nowMs - EXPIRED_HOLD_GRACE_MS}`),
  ]
  const reads = holds.map((h) => db.all<Record<string, unknown>>(budgetUseQuery(h.budgetId, h.periodStartMs, opts.nowMs)))
  const results = await db.batch([statements[0]!, ...statements.slice(1), ...reads])
  const lastInsert = results[inserts.length - 1] as { rowsAffected: number }
  const useRows = results.slice(statements.length) as Array<Array<Record<string, unknown>>>
  return { placed: lastInsert.rowsAffected === 1, uses: useRows.map((rows) => toUse(rows[0])) }
}

/**
 * Settles holds to the request's true cost: adds it to each hold's budget and period, and deletes
 * the hold, in one transaction. Idempotent: the cost is added only while the hold exists, so a
 * retry (or a second call) changes nothing. Cost 0 (local, refused, failed) only deletes the holds.
 */
export async function settleHolds(db: GatewayDb, holdIds: readonly string[], costNanoUsd: number): Promise<void> {
  if (holdIds.length === 0) return
  const ids = sql.join(holdIds.map((id) => sql`${id}`), sql`, `)
  const remove = db.run(sql`DELETE FROM budget_holds WHERE id IN (${ids})`)
  if (costNanoUsd <= 0) {
    await remove
    return
  }
  // "WHERE id = ..." also keeps SQLite's parser from reading ON CONFLICT as a join constraint.
  const add = db.run(sql`INSERT INTO budget_spend (budget_id, period_start, spent_nano_usd)
    SELECT budget_id, period_start, ${costNanoUsd} FROM budget_holds WHERE id IN (${ids})
    ON CONFLICT (budget_id, period_start) DO UPDATE SET spent_nano_usd = spent_nano_usd + excluded.spent_nano_usd`)
  await db.batch([add, remove])
}
