import type { GatewayDb } from '../db/client.js'
import { reserveHolds, settleHolds, type BudgetUse } from '../db/budget-holds.js'
import type { BudgetRow, UsageRow } from '../db/schema.js'
import type { Logger } from '../log.js'
import type { PriceTable } from '../metering/pricing.js'
import type { BudgetConfig } from './budget-config.js'
import { worstCaseCostNanoUsd } from './budget-cost.js'
import { periodWord, usd } from './budget-format.js'
import type { BudgetLookup } from './budget-cache.js'
import { periodBounds, type PeriodBounds } from './budget-period.js'
import type { Admission, AdmissionRequest, RequestGuard } from './guard.js'

export interface BudgetGuardDeps {
  db: GatewayDb
  lookup: BudgetLookup
  priceTable: PriceTable
  config: BudgetConfig
  log: Logger
}

interface Held {
  budget: BudgetRow
  bounds: PeriodBounds
  holdId: string
}

const SETTLE_RETRY_DELAYS_MS = [250, 1_000]
const ADMIT: Admission = { ok: true, headers: {} }

/**
 * Team and key budgets in USD that never overshoot: before a request may go to the hosted
 * backend, its worst-case cost is held in the database by one conditional statement; when the
 * usage row is final the hold is settled to the true cost (0 for local, refused or failed).
 * Local traffic costs nothing, so it is never held or refused.
 * @example createGateway({ ..., guards: [budgetGuard({ db, lookup, priceTable, config, log })] })
 */
export function budgetGuard(deps: BudgetGuardDeps): RequestGuard {
  async function admit(req: AdmissionRequest, retried: boolean): Promise<Admission> {
    const teamId = req.key.teamId
    if (!teamId || !req.order.includes('hosted')) return ADMIT
    const budgets = await deps.lookup.budgetsFor(teamId, req.key.id, req.nowMs)
    if (budgets.length === 0) return ADMIT
    const completionTokens = req.maxCompletionTokens ?? deps.config.defaultMaxTokens
    const amount = worstCaseCostNanoUsd(deps.priceTable, req.hostedModel ?? req.model, new Date(req.nowMs), { promptTokensBound: req.promptTokensBound, completionTokens })
    if (amount === 0) return ADMIT

    const held: Held[] = budgets.map((budget) => ({ budget, bounds: periodBounds(budget.period, budget.timeZone, req.nowMs), holdId: `hold_${crypto.randomUUID()}` }))
    const { placed, uses } = await reserveHolds(
      deps.db,
      held.map((h) => ({ holdId: h.holdId, budgetId: h.budget.id, periodStartMs: h.bounds.startMs, amountNanoUsd: amount })),
      { nowMs: req.nowMs, expiresAtMs: req.nowMs + deps.config.holdTtlMs },
    )
    if (uses.some((u) => u === undefined)) {
      // A budget was deleted since it was cached: look again, once.
      for (const h of held) deps.lookup.forget(h.budget.scope, h.budget.scopeId)
      if (placed) await settleHolds(deps.db, held.map((h) => h.holdId), 0)
      return retried ? ADMIT : admit(req, true)
    }
    const used = uses as BudgetUse[]

    if (placed) {
      const holdIds = held.map((h) => h.holdId)
      // Other requests' holds only: what this one finds when it starts.
      const others = used.map((u) => ({ ...u, heldNanoUsd: u.heldNanoUsd - amount }))
      return { ok: true, headers: budgetHeaders(held, others), settle: (row) => settle(holdIds, row) }
    }

    const i = Math.max(0, used.findIndex((u) => u.spentNanoUsd + u.heldNanoUsd + amount > u.limitNanoUsd))
    const blocking = held[i]!
    const use = used[i]!
    const who = blocking.budget.scope
    const usedText = `${usd(use.spentNanoUsd + use.heldNanoUsd)} of ${usd(use.limitNanoUsd)} used`
    const reset = new Date(blocking.bounds.endMs).toISOString()
    if (req.key.team?.onHostedBudgetExhausted === 'local' && req.order.includes('local')) {
      return { ok: true, order: ['local'], headers: { 'x-moe-budget-warning': `hard limit reached (${who}): ${usedText}; sent to local until ${reset}`, 'x-moe-budget-remaining-usd': '0.00' } }
    }
    const noMaxTokens = req.maxCompletionTokens === undefined ? ` Without max_tokens a request reserves ${deps.config.defaultMaxTokens} output tokens; a lower max_tokens reserves less.` : ''
    return {
      ok: false,
      status: 429,
      code: 'budget_exceeded',
      message:
        `The ${who === 'team' ? "team's" : "key's"} ${periodWord(blocking.budget.period)} budget of ${usd(use.limitNanoUsd)} (${blocking.budget.timeZone}) cannot cover this request: ` +
        `${usd(use.spentNanoUsd)} spent and ${usd(use.heldNanoUsd)} held by requests in flight, and this request could cost up to ${usd(amount)}. ` +
        `The budget resets at ${reset}.${noMaxTokens}`,
      // The OpenAI SDKs retry 429s unless told not to; waiting seconds does not refill a budget.
      headers: { 'x-should-retry': 'false', 'x-moe-budget-reset': reset },
    }
  }

  async function settle(holdIds: string[], row: UsageRow): Promise<void> {
    const cost = row.costNanoUsd ?? 0
    for (let attempt = 0; ; attempt++) {
      try {
        // Idempotent, so a retry after a lost reply cannot count the cost twice.
        return await settleHolds(deps.db, holdIds, cost)
      } catch (err) {
        const delay = SETTLE_RETRY_DELAYS_MS[attempt]
        if (delay === undefined) throw err
        deps.log.warn('budget settle failed, retrying', { requestId: row.id, error: err instanceof Error ? err.name : 'unknown' })
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }

  return {
    name: 'budgets',
    async admit(req) {
      try {
        return await admit(req, false)
      } catch (err) {
        // Fail closed: admitting without a hold could overshoot. 429 + Retry-After, so clients retry shortly.
        deps.log.error('budget check failed', { requestId: req.requestId, error: err instanceof Error ? err.name : 'unknown' })
        return { ok: false, status: 429, code: 'budget_unavailable', message: 'The budget of this key or team could not be checked just now; retry in a moment.', headers: { 'retry-after': '1' } }
      }
    },
  }
}

/** `x-moe-budget-remaining-usd` (the tightest budget) and a warning for each budget past its soft limit. */
function budgetHeaders(held: readonly Held[], uses: readonly BudgetUse[]): Record<string, string> {
  const warnings: string[] = []
  let remaining = Number.POSITIVE_INFINITY
  uses.forEach((u, i) => {
    const inUse = u.spentNanoUsd + u.heldNanoUsd
    remaining = Math.min(remaining, Math.max(0, u.limitNanoUsd - inUse))
    if (u.softLimitNanoUsd !== null && inUse >= u.softLimitNanoUsd) {
      warnings.push(`soft limit reached (${held[i]!.budget.scope}): ${usd(inUse)} of ${usd(u.limitNanoUsd)} used`)
    }
  })
  const headers: Record<string, string> = { 'x-moe-budget-remaining-usd': usd(remaining).slice(1) }
  if (warnings.length > 0) headers['x-moe-budget-warning'] = warnings.join('; ')
  return headers
}
