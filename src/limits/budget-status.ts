import type { GatewayDb } from '../db/client.js'
import { readBudgetUse, type BudgetUse } from '../db/budget-holds.js'
import { findBudgetOf, type BudgetScope } from '../db/budgets.js'
import type { BudgetPeriod, BudgetRow } from '../db/schema.js'
import { periodBounds } from './budget-period.js'

/** Where a budget stands in its current period. Amounts in integer nano-USD. */
export interface BudgetStatus {
  budgetId: string
  scope: BudgetScope
  scopeId: string
  period: BudgetPeriod
  timeZone: string
  limitNanoUsd: number
  softLimitNanoUsd: number | null
  /** Settled cost of finished requests this period. */
  spentNanoUsd: number
  /** Worst-case cost held for requests in flight (unexpired holds). */
  heldNanoUsd: number
  /** limit - spent - held, never below 0. */
  remainingNanoUsd: number
  softLimitReached: boolean
  periodStartMs: number
  /** When the next period starts (the reset), exclusive end of this one. */
  periodEndMs: number
}

export function budgetStatusFrom(budget: BudgetRow, use: BudgetUse | undefined, bounds: { startMs: number; endMs: number }): BudgetStatus {
  const spentNanoUsd = use?.spentNanoUsd ?? 0
  const heldNanoUsd = use?.heldNanoUsd ?? 0
  const limitNanoUsd = use?.limitNanoUsd ?? budget.limitNanoUsd
  const softLimitNanoUsd = use ? use.softLimitNanoUsd : budget.softLimitNanoUsd
  return {
    budgetId: budget.id,
    scope: budget.scope,
    scopeId: budget.scopeId,
    period: budget.period,
    timeZone: budget.timeZone,
    limitNanoUsd,
    softLimitNanoUsd,
    spentNanoUsd,
    heldNanoUsd,
    remainingNanoUsd: Math.max(0, limitNanoUsd - spentNanoUsd - heldNanoUsd),
    softLimitReached: softLimitNanoUsd !== null && spentNanoUsd + heldNanoUsd >= softLimitNanoUsd,
    periodStartMs: bounds.startMs,
    periodEndMs: bounds.endMs,
  }
}

/** The status of one budget at `nowMs` (one read). */
export async function statusOfBudget(db: GatewayDb, budget: BudgetRow, nowMs: number): Promise<BudgetStatus> {
  const bounds = periodBounds(budget.period, budget.timeZone, nowMs)
  return budgetStatusFrom(budget, await readBudgetUse(db, budget.id, bounds.startMs, nowMs), bounds)
}

/**
 * The budget of a team or a key and where it stands now; undefined when the scope has no budget.
 * @example const status = await budgetStatusFor(db, 'team', key.teamId, Date.now())
 */
export async function budgetStatusFor(db: GatewayDb, scope: BudgetScope, scopeId: string, nowMs: number): Promise<BudgetStatus | undefined> {
  const budget = await findBudgetOf(db, scope, scopeId)
  return budget ? statusOfBudget(db, budget, nowMs) : undefined
}
