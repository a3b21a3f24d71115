import type { GatewayDb } from '../db/client.js'
import { budgetsForRequest, type BudgetScope } from '../db/budgets.js'
import type { BudgetRow } from '../db/schema.js'

interface Entry {
  budget: BudgetRow | null
  expiresAtMs: number
}

const MAX_ENTRIES = 20_000

/**
 * Which budgets a team and a key have, remembered per scope for `ttlMs`, so requests of scopes
 * without a budget cost no database round trip. Staleness: a budget created or deleted through
 * another process (or Worker isolate) is noticed within `ttlMs`; changes made through this one
 * apply at once (`forget`). Limits themselves are read inside the reserving statement, so a
 * lowered limit applies at once everywhere the budget is known.
 * While the database cannot be read, the last answer is used even past `ttlMs`.
 * @example const rows = await lookup.budgetsFor(key.teamId, key.id, now)
 */
export class BudgetLookup {
  private readonly cache = new Map<string, Entry>()
  private readonly loading = new Map<string, Promise<BudgetRow[]>>()

  constructor(
    private readonly db: GatewayDb,
    private readonly ttlMs: number,
  ) {}

  async budgetsFor(teamId: string, keyId: string, nowMs: number): Promise<BudgetRow[]> {
    const team = this.fresh(`team:${teamId}`, nowMs)
    const key = this.fresh(`key:${keyId}`, nowMs)
    if (team !== undefined && key !== undefined) return [team, key].filter((b): b is BudgetRow => b !== null)
    const loadKey = `${teamId}\u0000${keyId}`
    let pending = this.loading.get(loadKey)
    if (!pending) {
      pending = this.load(teamId, keyId, nowMs).finally(() => this.loading.delete(loadKey))
      this.loading.set(loadKey, pending)
    }
    try {
      return await pending
    } catch (err) {
      // Database unreachable: answer from what was last known. "No budget" keeps unbudgeted
      // traffic flowing through an outage; a known budget still fails closed when it cannot be reserved.
      const staleTeam = this.cache.get(`team:${teamId}`)
      const staleKey = this.cache.get(`key:${keyId}`)
      if (!staleTeam || !staleKey) throw err
      return [staleTeam.budget, staleKey.budget].filter((b): b is BudgetRow => b !== null)
    }
  }

  /** Drops what is remembered of a scope (after a change made through this process). */
  forget(scope: BudgetScope, scopeId: string): void {
    this.cache.delete(`${scope}:${scopeId}`)
  }

  private async load(teamId: string, keyId: string, nowMs: number): Promise<BudgetRow[]> {
    const rows = await budgetsForRequest(this.db, teamId, keyId)
    const team = rows.find((r) => r.scope === 'team') ?? null
    const key = rows.find((r) => r.scope === 'key') ?? null
    this.remember(`team:${teamId}`, team, nowMs)
    this.remember(`key:${keyId}`, key, nowMs)
    return [team, key].filter((b): b is BudgetRow => b !== null)
  }

  private fresh(cacheKey: string, nowMs: number): BudgetRow | null | undefined {
    const entry = this.cache.get(cacheKey)
    return entry && entry.expiresAtMs > nowMs ? entry.budget : undefined
  }

  private remember(cacheKey: string, budget: BudgetRow | null, nowMs: number): void {
    if (this.cache.size >= MAX_ENTRIES && !this.cache.has(cacheKey)) {
      const oldest = this.cache.keys().next().value
      if (oldest !== undefined) this.cache.delete(oldest)
    }
    this.cache.set(cacheKey, { budget, expiresAtMs: nowMs + this.ttlMs })
  }
}
