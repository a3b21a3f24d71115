/**
 * Budget admin operations, shared by the HTTP admin API and the CLI's local mode.
 * Amounts come in as decimal USD strings and are stored as integer nano-USD, exactly.
 * Roles: gateway admins manage every budget; a team-admin sees its own team's budgets and sets
 * or deletes budgets of its team's keys, but not the team's own budget (that is the cap set
 * for the team). Out-of-scope teams, keys and budgets answer 404, like missing ones.
 */
import { administeredTeamId, isGatewayAdmin, type Actor } from '../auth/roles.js'
import { keyInScope, keyNotFound, teamInScope, teamNotFound } from '../auth/scope.js'
import type { GatewayDb } from '../db/client.js'
import { deleteBudget, findBudgetById, listBudgets, upsertBudget, type BudgetScope } from '../db/budgets.js'
import { findKeyById } from '../db/keys.js'
import { BUDGET_PERIODS, type BudgetPeriod, type BudgetRow } from '../db/schema.js'
import { usdDecimal } from '../limits/budget-format.js'
import { isValidTimeZone } from '../limits/budget-period.js'
import { statusOfBudget, type BudgetStatus } from '../limits/budget-status.js'
import { usdDecimalToNano } from '../metering/pricing.js'
import { audit } from './audit.js'
import { fail, ok, type OpResult } from './op-result.js'

export interface PublicBudget {
  id: string
  scope: BudgetScope
  /** The team id, or the key id. */
  scope_id: string
  /** The team the budget belongs to (the key's team for key budgets): for authorization and display. */
  team_id: string | null
  period: BudgetPeriod
  time_zone: string
  limit_usd: string
  soft_limit_usd: string | null
  limit_nano_usd: number
  soft_limit_nano_usd: number | null
  spent_usd: string
  held_usd: string
  remaining_usd: string
  spent_nano_usd: number
  held_nano_usd: number
  remaining_nano_usd: number
  soft_limit_reached: boolean
  period_start: string
  /** The reset: when the next period starts. */
  period_end: string
  created_at: string
}

export function publicBudget(row: BudgetRow, status: BudgetStatus, teamId: string | null): PublicBudget {
  return {
    id: row.id,
    scope: row.scope,
    scope_id: row.scopeId,
    team_id: teamId,
    period: row.period,
    time_zone: row.timeZone,
    limit_usd: usdDecimal(status.limitNanoUsd),
    soft_limit_usd: status.softLimitNanoUsd === null ? null : usdDecimal(status.softLimitNanoUsd),
    limit_nano_usd: status.limitNanoUsd,
    soft_limit_nano_usd: status.softLimitNanoUsd,
    spent_usd: usdDecimal(status.spentNanoUsd),
    held_usd: usdDecimal(status.heldNanoUsd),
    remaining_usd: usdDecimal(status.remainingNanoUsd),
    spent_nano_usd: status.spentNanoUsd,
    held_nano_usd: status.heldNanoUsd,
    remaining_nano_usd: status.remainingNanoUsd,
    soft_limit_reached: status.softLimitReached,
    period_start: new Date(status.periodStartMs).toISOString(),
    period_end: new Date(status.periodEndMs).toISOString(),
    created_at: new Date(row.createdAt).toISOString(),
  }
}

function nanoUsd(value: unknown, field: string): OpResult<number> {
  if (typeof value !== 'string') return fail(400, 'invalid_amount', `${field} must be a decimal USD string like "50.00" (numbers are refused so no float rounding creeps in)`)
  try {
    const nano = usdDecimalToNano(value, field)
    return nano > 0 ? { ok: true, value: nano } : fail(400, 'invalid_amount', `${field} must be more than 0`)
  } catch {
    return fail(400, 'invalid_amount', `${field}: "${value}" is not a decimal USD amount with at most 9 decimals, like "50.00"`)
  }
}

/** The scope a request names: exactly one of `team` (name or id) and `key` (id), within the actor's reach. */
async function scopeOf(db: GatewayDb, actor: Actor, input: { team?: unknown; key?: unknown }): Promise<OpResult<{ scope: BudgetScope; scopeId: string; teamId: string | null }>> {
  const hasTeam = input.team !== undefined && input.team !== null
  const hasKey = input.key !== undefined && input.key !== null
  if (hasTeam === hasKey) return fail(400, 'invalid_budget_scope', 'Name exactly one of team (name or id) and key (key id)')
  if (hasTeam) {
    if (typeof input.team !== 'string') return fail(400, 'invalid_team', 'team must be a team name or id')
    const team = await teamInScope(db, actor, input.team)
    return team ? ok({ scope: 'team', scopeId: team.id, teamId: team.id }) : { ok: false, ...teamNotFound(input.team) }
  }
  if (typeof input.key !== 'string') return fail(400, 'invalid_key', 'key must be a key id (key_…)')
  const key = await keyInScope(db, actor, input.key)
  if (!key) return { ok: false, ...keyNotFound(input.key) }
  if (key.teamId === null) return fail(400, 'invalid_key', 'Gateway admin keys cannot call the model API, so they have no budget')
  return ok({ scope: 'key', scopeId: key.id, teamId: key.teamId })
}

const teamBudgetNeedsAdmin = () => fail(403, 'admin_required', "Only gateway admins can set or delete a team's own budget; team-admins manage their keys' budgets")

async function teamIdOf(db: GatewayDb, row: BudgetRow): Promise<string | null> {
  return row.scope === 'team' ? row.scopeId : ((await findKeyById(db, row.scopeId))?.teamId ?? null)
}

/**
 * Creates or replaces the budget of a team or a key.
 * @example await setBudget(db, { team: 'acme', period: 'month', limit_usd: '50.00', soft_limit_usd: '40.00', time_zone: 'Europe/Berlin' })
 */
export async function setBudget(
  db: GatewayDb,
  actor: Actor,
  input: { team?: unknown; key?: unknown; period?: unknown; limit_usd?: unknown; soft_limit_usd?: unknown; time_zone?: unknown },
  nowMs = Date.now(),
): Promise<OpResult<PublicBudget>> {
  if (!(BUDGET_PERIODS as readonly unknown[]).includes(input.period)) return fail(400, 'invalid_period', `period must be one of ${BUDGET_PERIODS.join(', ')}`)
  const timeZone = input.time_zone ?? 'UTC'
  if (typeof timeZone !== 'string' || !isValidTimeZone(timeZone)) return fail(400, 'invalid_time_zone', `time_zone must be an IANA time zone like "Europe/Berlin" or "UTC", got ${JSON.stringify(timeZone)}`)
  const limit = nanoUsd(input.limit_usd, 'limit_usd')
  if (!limit.ok) return limit
  let soft: number | null = null
  if (input.soft_limit_usd !== undefined && input.soft_limit_usd !== null) {
    const parsed = nanoUsd(input.soft_limit_usd, 'soft_limit_usd')
    if (!parsed.ok) return parsed
    if (parsed.value > limit.value) return fail(400, 'invalid_amount', 'soft_limit_usd must not be above limit_usd')
    soft = parsed.value
  }
  const scope = await scopeOf(db, actor, input)
  if (!scope.ok) return scope
  if (scope.value.scope === 'team' && !isGatewayAdmin(actor)) return teamBudgetNeedsAdmin()
  const row = await upsertBudget(db, { scope: scope.value.scope, scopeId: scope.value.scopeId, period: input.period as BudgetPeriod, timeZone, limitNanoUsd: limit.value, softLimitNanoUsd: soft })
  const value = publicBudget(row, await statusOfBudget(db, row, nowMs), scope.value.teamId)
  const details = { scope: value.scope, scope_id: value.scope_id, period: value.period, time_zone: value.time_zone, limit_usd: value.limit_usd, soft_limit_usd: value.soft_limit_usd }
  await audit(db, actor, { teamId: value.team_id, action: 'budget.set', target: value.id, details })
  return ok(value)
}

/** Budgets with their current period's spend, holds and remaining: of one team and its keys, of one key, or all the actor may see. */
export async function budgetsOf(db: GatewayDb, actor: Actor, filter: { team?: string; key?: string }, nowMs = Date.now()): Promise<OpResult<PublicBudget[]>> {
  let rows: BudgetRow[]
  if (filter.key !== undefined) {
    const scope = await scopeOf(db, actor, { key: filter.key })
    if (!scope.ok) return scope
    rows = (await listBudgets(db, scope.value.teamId ?? undefined)).filter((r) => r.scope === 'key' && r.scopeId === scope.value.scopeId)
  } else if (filter.team !== undefined || !isGatewayAdmin(actor)) {
    const scope = await scopeOf(db, actor, { team: filter.team ?? administeredTeamId(actor) ?? '' })
    if (!scope.ok) return scope
    rows = await listBudgets(db, scope.value.scopeId)
  } else {
    rows = await listBudgets(db)
  }
  return ok(await Promise.all(rows.map(async (row) => publicBudget(row, await statusOfBudget(db, row, nowMs), await teamIdOf(db, row)))))
}

export async function removeBudget(db: GatewayDb, actor: Actor, id: string): Promise<OpResult<{ id: string; deleted: true; scope: BudgetScope; scope_id: string; team_id: string | null }>> {
  const found = await findBudgetById(db, id)
  const teamId = found ? await teamIdOf(db, found) : null
  const notFound = fail(404, 'budget_not_found', `No budget '${id}'`)
  if (!found || (!isGatewayAdmin(actor) && (teamId === null || teamId !== administeredTeamId(actor)))) return notFound
  if (found.scope === 'team' && !isGatewayAdmin(actor)) return teamBudgetNeedsAdmin()
  const row = await deleteBudget(db, id)
  if (!row) return notFound
  await audit(db, actor, { teamId, action: 'budget.delete', target: id, details: { scope: row.scope, scope_id: row.scopeId } })
  return ok({ id, deleted: true, scope: row.scope, scope_id: row.scopeId, team_id: teamId })
}

export const HOSTED_BUDGET_EXHAUSTED = ['refuse', 'local'] as const
export type HostedBudgetExhausted = (typeof HOSTED_BUDGET_EXHAUSTED)[number]

/** A team's `on_hosted_budget_exhausted`: 'refuse' (429 budget_exceeded) or 'local' (send the request to local instead). */
export function parseHostedBudgetExhausted(value: unknown): OpResult<HostedBudgetExhausted> {
  return (HOSTED_BUDGET_EXHAUSTED as readonly unknown[]).includes(value)
    ? { ok: true, value: value as HostedBudgetExhausted }
    : fail(400, 'invalid_request_error', `on_hosted_budget_exhausted must be one of ${HOSTED_BUDGET_EXHAUSTED.join(', ')}`)
}
