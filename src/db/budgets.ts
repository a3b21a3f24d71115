import { and, eq, inArray, or } from 'drizzle-orm'
import type { GatewayDb } from './client.js'
import { apiKeys, budgetHolds, budgets, budgetSpend, type BudgetPeriod, type BudgetRow } from './schema.js'

export type BudgetScope = 'team' | 'key'

export interface BudgetInput {
  scope: BudgetScope
  scopeId: string
  period: BudgetPeriod
  timeZone: string
  limitNanoUsd: number
  softLimitNanoUsd: number | null
}

/**
 * Creates the budget of a scope, or changes it in place (same id, so the period's spend carries
 * over: lowering a limit below what is spent refuses further hosted requests at once).
 */
export async function upsertBudget(db: GatewayDb, input: BudgetInput): Promise<BudgetRow> {
  const change = { period: input.period, timeZone: input.timeZone, limitNanoUsd: input.limitNanoUsd, softLimitNanoUsd: input.softLimitNanoUsd }
  const [row] = await db
    .insert(budgets)
    .values({ id: `budget_${crypto.randomUUID()}`, scope: input.scope, scopeId: input.scopeId, ...change })
    .onConflictDoUpdate({ target: [budgets.scope, budgets.scopeId], set: change })
    .returning()
  if (!row) throw new Error('upsert returned no budget')
  return row
}

export async function findBudgetById(db: GatewayDb, id: string): Promise<BudgetRow | undefined> {
  return db.select().from(budgets).where(eq(budgets.id, id)).get()
}

export async function findBudgetOf(db: GatewayDb, scope: BudgetScope, scopeId: string): Promise<BudgetRow | undefined> {
  return db.select().from(budgets).where(and(eq(budgets.scope, scope), eq(budgets.scopeId, scopeId))).get()
}

/** The budgets that apply to a request of `keyId` in `teamId`: at most one per scope. */
export async function budgetsForRequest(db: GatewayDb, teamId: string, keyId: string): Promise<BudgetRow[]> {
  return db
    .select()
    .from(budgets)
    .where(or(and(eq(budgets.scope, 'team'), eq(budgets.scopeId, teamId)), and(eq(budgets.scope, 'key'), eq(budgets.scopeId, keyId))))
    .all()
}

/** Budgets of a team and of its keys; every budget when `teamId` is undefined. */
export async function listBudgets(db: GatewayDb, teamId?: string): Promise<BudgetRow[]> {
  const query = db.select().from(budgets)
  if (teamId === undefined) return query.orderBy(budgets.createdAt).all()
  const teamKeys = db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.teamId, teamId))
  return query
    .where(or(and(eq(budgets.scope, 'team'), eq(budgets.scopeId, teamId)), and(eq(budgets.scope, 'key'), inArray(budgets.scopeId, teamKeys))))
    .orderBy(budgets.createdAt)
    .all()
}

/** Deletes a budget with its spend history and holds; the deleted row, or undefined if there was none. */
export async function deleteBudget(db: GatewayDb, id: string): Promise<BudgetRow | undefined> {
  const [deleted] = await db.batch([
    db.delete(budgets).where(eq(budgets.id, id)).returning(),
    db.delete(budgetSpend).where(eq(budgetSpend.budgetId, id)),
    db.delete(budgetHolds).where(eq(budgetHolds.budgetId, id)),
  ])
  return deleted[0]
}

