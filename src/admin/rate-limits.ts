import { Hono } from 'hono'
import { isGatewayAdmin, type Actor } from '../auth/roles.js'
import { keyInScope, keyNotFound, teamInScope, teamNotFound } from '../auth/scope.js'
import type { GatewayDb } from '../db/client.js'
import { findKeyById } from '../db/keys.js'
import { deleteRateLimit, findRateLimit, listRateLimits, putRateLimit, type RateScope } from '../db/rate-limits.js'
import type { RateLimitRow } from '../db/schema.js'
import { findTeamById } from '../db/teams.js'
import type { GatewayEnv } from '../env.js'
import { audit } from './audit.js'
import { answer, badJson, jsonBody } from './http.js'
import { fail, ok, type OpResult } from './op-result.js'

/*
 * Rate limits are set and cleared by gateway admins only (a team's admin must not lift its own
 * team's limits); a team-admin may read its own team's, and other teams answer 404 (src/auth/scope.ts).
 */

export interface PublicRateLimit {
  scope: RateScope
  /** Team name for a team limit; the key's team name for a key limit. */
  team: string | null
  team_id: string | null
  key_id: string | null
  requests_per_minute: number | null
  tokens_per_minute: number | null
}

// Far above any real rate; keeps counters well inside SQLite's 64-bit integers.
const MAX_RATE = 1_000_000_000_000

interface Target {
  scope: RateScope
  scopeId: string
  teamId: string | null
  teamName: string | null
}

/** `{team}` or `{key}` -> the scope it names, if the actor may see it. */
async function resolveTarget(db: GatewayDb, actor: Actor, sel: { team?: unknown; key?: unknown }): Promise<OpResult<Target>> {
  const hasTeam = sel.team !== undefined && sel.team !== null
  const hasKey = sel.key !== undefined && sel.key !== null
  if (hasTeam === hasKey) return fail(400, 'invalid_rate_limit_target', 'Name exactly one of "team" (name or id) or "key" (key id)')
  if (hasTeam) {
    if (typeof sel.team !== 'string') return fail(400, 'invalid_team', 'team must be a team name or id')
    const team = await teamInScope(db, actor, sel.team)
    if (!team) return { ok: false, ...teamNotFound(sel.team) }
    return ok({ scope: 'team', scopeId: team.id, teamId: team.id, teamName: team.name })
  }
  if (typeof sel.key !== 'string') return fail(400, 'invalid_key', 'key must be a key id (key_…)')
  const key = await keyInScope(db, actor, sel.key)
  // Gateway-wide admin keys make no model requests, so they have no rate to limit.
  if (!key?.teamId) return { ok: false, ...keyNotFound(sel.key) }
  const team = await findTeamById(db, key.teamId)
  return ok({ scope: 'key', scopeId: key.id, teamId: key.teamId, teamName: team?.name ?? null })
}

function publicRateLimit(row: RateLimitRow, target: Pick<Target, 'teamId' | 'teamName'>): PublicRateLimit {
  return {
    scope: row.scope,
    team: target.teamName,
    team_id: target.teamId,
    key_id: row.scope === 'key' ? row.scopeId : null,
    requests_per_minute: row.requestsPerMinute,
    tokens_per_minute: row.tokensPerMinute,
  }
}

/** undefined: leave as is; null: clear; else a positive integer. */
function rateField(body: Record<string, unknown>, name: string): OpResult<number | null | undefined> {
  const value = body[name]
  if (value === undefined || value === null) return { ok: true, value }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_RATE) return fail(400, 'invalid_rate_limit', `${name} must be a positive integer (or null to clear it)`)
  return { ok: true, value }
}

/** Sets the rates given (null clears one, absent keeps it); a scope left with no rate is removed. */
export async function setRateLimit(db: GatewayDb, actor: Actor, body: Record<string, unknown>): Promise<OpResult<PublicRateLimit>> {
  if (!isGatewayAdmin(actor)) return fail(403, 'admin_required', 'Rate limits are set by a gateway admin')
  const rpm = rateField(body, 'requests_per_minute')
  if (!rpm.ok) return rpm
  const tpm = rateField(body, 'tokens_per_minute')
  if (!tpm.ok) return tpm
  if (!('requests_per_minute' in body) && !('tokens_per_minute' in body)) return fail(400, 'invalid_rate_limit', 'Send requests_per_minute and/or tokens_per_minute (a positive integer, or null to clear)')
  const target = await resolveTarget(db, actor, body)
  if (!target.ok) return target
  const { scope, scopeId } = target.value
  const before = await findRateLimit(db, scope, scopeId)
  const row: RateLimitRow = {
    scope,
    scopeId,
    requestsPerMinute: rpm.value === undefined ? (before?.requestsPerMinute ?? null) : rpm.value,
    tokensPerMinute: tpm.value === undefined ? (before?.tokensPerMinute ?? null) : tpm.value,
  }
  if (row.requestsPerMinute === null && row.tokensPerMinute === null) await deleteRateLimit(db, scope, scopeId)
  else await putRateLimit(db, row)
  await audit(db, actor, { teamId: target.value.teamId, action: 'rate_limit.set', target: scopeId, details: { requests_per_minute: row.requestsPerMinute, tokens_per_minute: row.tokensPerMinute } })
  return ok(publicRateLimit(row, target.value))
}

/** Removes both rates of a team or key. */
export async function clearRateLimit(db: GatewayDb, actor: Actor, sel: { team?: unknown; key?: unknown }): Promise<OpResult<PublicRateLimit>> {
  if (!isGatewayAdmin(actor)) return fail(403, 'admin_required', 'Rate limits are cleared by a gateway admin')
  const target = await resolveTarget(db, actor, sel)
  if (!target.ok) return target
  await deleteRateLimit(db, target.value.scope, target.value.scopeId)
  await audit(db, actor, { teamId: target.value.teamId, action: 'rate_limit.clear', target: target.value.scopeId })
  return { ok: true, value: publicRateLimit({ scope: target.value.scope, scopeId: target.value.scopeId, requestsPerMinute: null, tokensPerMinute: null }, target.value) }
}

/** A team's limit and its keys' limits (`team`), one key's (`key`), or every limit (gateway admins, no filter). */
export async function rateLimitsOf(db: GatewayDb, actor: Actor, sel: { team?: string; key?: string }): Promise<OpResult<PublicRateLimit[]>> {
  if (sel.key !== undefined) {
    const target = await resolveTarget(db, actor, { key: sel.key })
    if (!target.ok) return target
    const row = await findRateLimit(db, 'key', target.value.scopeId)
    return { ok: true, value: row ? [publicRateLimit(row, target.value)] : [] }
  }
  let teamId: string | undefined
  if (sel.team !== undefined) {
    const target = await resolveTarget(db, actor, { team: sel.team })
    if (!target.ok) return target
    teamId = target.value.scopeId
  } else if (!isGatewayAdmin(actor)) {
    if (actor.teamId === null) return fail(403, 'admin_required', 'This endpoint needs an admin or team-admin key')
    teamId = actor.teamId
  }
  const rows = await listRateLimits(db, teamId)
  return { ok: true, value: await Promise.all(rows.map(async (row) => publicRateLimit(row, await teamOf(db, row)))) }
}

async function teamOf(db: GatewayDb, row: RateLimitRow): Promise<Pick<Target, 'teamId' | 'teamName'>> {
  const teamId = row.scope === 'team' ? row.scopeId : ((await findKeyById(db, row.scopeId))?.teamId ?? null)
  const team = teamId ? await findTeamById(db, teamId) : undefined
  return { teamId, teamName: team?.name ?? null }
}

/**
 * `/admin/rate-limits`: `PUT {"team"|"key", "requests_per_minute", "tokens_per_minute"}`,
 * `GET ?team=|?key=`, `DELETE ?team=|?key=`. A change drops this process's cached limits at once;
 * other processes and isolates see it within the guard's config TTL.
 */
export function rateLimitRoutes(deps: { db: GatewayDb; forget: (match: { keyId?: string; teamId?: string }) => void }): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>()
  const forget = (limit: PublicRateLimit) => deps.forget(limit.key_id ? { keyId: limit.key_id } : { teamId: limit.team_id ?? undefined })

  app.put('/', async (c) => {
    const body = await jsonBody(c)
    if (!body) return badJson(c)
    const result = await setRateLimit(deps.db, c.get('key'), body)
    if (result.ok) forget(result.value)
    return answer(c, result)
  })

  app.get('/', async (c) => {
    const result = await rateLimitsOf(deps.db, c.get('key'), { team: c.req.query('team'), key: c.req.query('key') })
    return answer(c, result.ok ? ok({ object: 'list', data: result.value }) : result)
  })

  app.delete('/', async (c) => {
    const result = await clearRateLimit(deps.db, c.get('key'), { team: c.req.query('team'), key: c.req.query('key') })
    if (result.ok) forget(result.value)
    return answer(c, result)
  })

  return app
}
