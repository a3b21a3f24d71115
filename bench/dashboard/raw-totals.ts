/**
 * What the dashboards would cost without rollups: the same sums rollupTotals reads from
 * usage_hourly, computed from raw usage rows with the very expressions of the migration's
 * backfill (migrations/0008, statement #2), so both sides count exactly the same things.
 */
import type { Client } from '@libsql/client'
import { rollupStatements } from './generate.js'

/** The backfill's aggregate expressions: its select list minus the six grouped columns. */
function backfillAggregates(): string[] {
  // The first backfill is usage_hourly's, from raw rows (the later ones fill from usage_hourly).
  const backfill = rollupStatements().backfill[0] ?? ''
  const select = backfill.slice(backfill.indexOf('SELECT ') + 'SELECT '.length, backfill.indexOf('\nFROM usage u'))
  const items: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < select.length; i++) {
    if (select[i] === '(') depth++
    else if (select[i] === ')') depth--
    else if (select[i] === ',' && depth === 0) {
      items.push(select.slice(start, i).trim())
      start = i + 1
    }
  }
  items.push(select.slice(start).trim())
  return items.slice(6)
}

export interface RawTotals {
  requests: number
  costNanoUsd: number
}

/**
 * Totals of [fromMs, toMs) from raw rows, for one team or (teamId undefined) all of them. Returns
 * the request count and hosted cost, to check against the rollups.
 */
export function rawTotalsQuery(client: Client): (scope: { teamId?: string; fromMs: number; toMs: number }) => Promise<RawTotals> {
  const aggregates = backfillAggregates()
  // Positions in the backfill's list: sum(1) is requests, cost_nano_usd the 12th sum.
  const requestsAt = aggregates.indexOf('sum(1)')
  const costAt = aggregates.indexOf('sum(u.cost_nano_usd)')
  if (requestsAt < 0 || costAt < 0) throw new Error('the backfill no longer sums 1 and u.cost_nano_usd')
  const list = aggregates.map((a, i) => `${a} AS a${i}`).join(', ')
  const forTeam = `SELECT ${list} FROM usage u WHERE u.team_id = ? AND u.created_at >= ? AND u.created_at < ?`
  const forAll = `SELECT ${list} FROM usage u WHERE u.created_at >= ? AND u.created_at < ?`
  return async (scope) => {
    const rs = scope.teamId === undefined
      ? await client.execute({ sql: forAll, args: [scope.fromMs, scope.toMs] })
      : await client.execute({ sql: forTeam, args: [scope.teamId, scope.fromMs, scope.toMs] })
    const row = rs.rows[0]
    return { requests: Number(row?.[`a${requestsAt}`] ?? 0), costNanoUsd: Number(row?.[`a${costAt}`] ?? 0) }
  }
}
