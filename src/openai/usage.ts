import type { Context } from 'hono'
import { administeredTeamId } from '../auth/roles.js'
import type { GatewayDb } from '../db/client.js'
import { usageSummary, type UsageTotals } from '../db/usage-summary.js'
import type { GatewayEnv } from '../env.js'
import type { BudgetStatus } from '../limits/budget-status.js'
import { usdDecimal } from '../limits/budget-format.js'
import { openAIError } from './errors.js'

export interface UsageDeps {
  db: GatewayDb
  now: () => number
  /** The budget of a team or key and where it stands (src/limits/budget-status.ts: budgetStatusFor). */
  budgetStatus: (scope: 'team' | 'key', scopeId: string, nowMs: number) => Promise<BudgetStatus | undefined>
}

const publicTotals = (t: UsageTotals) => ({
  requests: t.requests,
  failed_requests: t.failedRequests,
  prompt_tokens: t.promptTokens,
  cache_hit_tokens: t.cacheHitTokens,
  cache_miss_tokens: t.cacheMissTokens,
  completion_tokens: t.completionTokens,
  reasoning_tokens: t.reasoningTokens,
  cost_usd: usdDecimal(t.costNanoUsd),
  cost_nano_usd: t.costNanoUsd,
})

const publicBudget = (b: BudgetStatus) => ({
  scope: b.scope,
  period: b.period,
  time_zone: b.timeZone,
  limit_usd: usdDecimal(b.limitNanoUsd),
  spent_usd: usdDecimal(b.spentNanoUsd),
  held_usd: usdDecimal(b.heldNanoUsd),
  remaining_usd: usdDecimal(b.remainingNanoUsd),
  limit_nano_usd: b.limitNanoUsd,
  spent_nano_usd: b.spentNanoUsd,
  held_nano_usd: b.heldNanoUsd,
  remaining_nano_usd: b.remainingNanoUsd,
  period_start: new Date(b.periodStartMs).toISOString(),
  resets_at: new Date(b.periodEndMs).toISOString(),
})

/** `2026-05-01` is UTC midnight; full ISO 8601 timestamps are taken as they are. */
function parseInstant(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback
  const ms = Date.parse(value)
  return Number.isFinite(ms) ? ms : undefined
}

function monthBoundsUtc(nowMs: number): { startMs: number; endMs: number } {
  const now = new Date(nowMs)
  return { startMs: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1), endMs: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) }
}

/**
 * `GET /v1/usage?from=&to=&scope=key|team`: what the calling key (default) or, for a
 * team-admin, its team used in [from, to) (default: the current UTC month), by model and
 * backend, with the key's or team's budget. Nothing of other keys or teams, ever: the
 * query is bound to the caller's own team and key.
 */
export function selfUsage(deps: UsageDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const key = c.get('key')
    if (!key.teamId) return openAIError(c, 403, 'admin_key_not_for_api', 'Gateway admin keys have no usage of their own; use a team key, or the admin API')
    const scope = c.req.query('scope') ?? 'key'
    if (scope !== 'key' && scope !== 'team') return openAIError(c, 400, 'invalid_scope', 'scope must be "key" or "team"', 'scope')
    if (scope === 'team' && administeredTeamId(key) !== key.teamId) return openAIError(c, 403, 'team_scope_not_allowed', "Only a team-admin key may see its team's usage; leave out scope to see this key's own")
    const nowMs = deps.now()
    const month = monthBoundsUtc(nowMs)
    const fromMs = parseInstant(c.req.query('from'), month.startMs)
    const toMs = parseInstant(c.req.query('to'), month.endMs)
    if (fromMs === undefined) return openAIError(c, 400, 'invalid_from', 'from must be an ISO 8601 date or timestamp', 'from')
    if (toMs === undefined) return openAIError(c, 400, 'invalid_to', 'to must be an ISO 8601 date or timestamp', 'to')
    if (fromMs >= toMs) return openAIError(c, 400, 'invalid_range', 'from must be before to', 'from')

    const scopeId = scope === 'key' ? key.id : key.teamId
    const [summary, budget] = await Promise.all([
      usageSummary(deps.db, { teamId: key.teamId, keyId: scope === 'key' ? key.id : undefined, fromMs, toMs }),
      deps.budgetStatus(scope, scopeId, nowMs),
    ])
    return c.json({
      object: 'usage',
      scope,
      key: scope === 'key' ? { id: key.id, name: key.name } : null,
      team: { id: key.teamId, name: key.team?.name ?? null },
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      totals: publicTotals(summary.totals),
      by_model_and_backend: summary.breakdown.map((row) => ({ model: row.model, backend: row.backend, ...publicTotals(row) })),
      budget: budget ? publicBudget(budget) : null,
      // How far `auto` routing's local latency predictions were off, over the requests it predicted and local served.
      latency_prediction: {
        requests: summary.totals.predictedRequests,
        mean_abs_error_ms: summary.totals.predictedRequests > 0 ? Math.round(summary.totals.predictionAbsErrorMs / summary.totals.predictedRequests) : null,
      },
    })
  }
}
