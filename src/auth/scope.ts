import type { Context } from 'hono'
import type { GatewayDb } from '../db/client.js'
import { findKeyById } from '../db/keys.js'
import type { ApiKeyRow, TeamRow } from '../db/schema.js'
import { findTeam } from '../db/teams.js'
import type { GatewayEnv } from '../env.js'
import { openAIError } from '../openai/errors.js'
import { administeredTeamId, isGatewayAdmin, type Actor } from './roles.js'

/*
 * Scoping rule: a team-admin sees its own team only. Another team, or a gateway-wide key,
 * answers exactly like one that does not exist (404), so a team-admin cannot learn what
 * other teams or keys exist by probing.
 */

/** The team if the actor may administer it; undefined when it does not exist or is out of scope. */
export async function teamInScope(db: GatewayDb, actor: Actor, teamIdOrName: string): Promise<TeamRow | undefined> {
  const team = await findTeam(db, teamIdOrName)
  if (!team) return undefined
  if (isGatewayAdmin(actor)) return team
  return administeredTeamId(actor) === team.id ? team : undefined
}

/** The key row if the actor may administer it; undefined when it does not exist or is out of scope. */
export async function keyInScope(db: GatewayDb, actor: Actor, keyId: string): Promise<ApiKeyRow | undefined> {
  const row = await findKeyById(db, keyId)
  if (!row) return undefined
  if (isGatewayAdmin(actor)) return row
  const teamId = administeredTeamId(actor)
  return teamId !== undefined && row.teamId === teamId ? row : undefined
}

export const teamNotFound = (team: string) => ({ status: 404 as const, code: 'team_not_found', message: `No team '${team}'` })
export const keyNotFound = (id: string) => ({ status: 404 as const, code: 'key_not_found', message: `No key '${id}'` })

/**
 * For admin routes about one team (budgets, rate limits, ...): the team, or the 404 to return.
 * Run behind requireRole('team-admin') or requireRole('admin').
 * @example
 * const team = await authorizeTeamScope(c, db, c.req.param('team'))
 * if (team instanceof Response) return team
 */
export async function authorizeTeamScope(c: Context<GatewayEnv>, db: GatewayDb, teamIdOrName: string): Promise<TeamRow | Response> {
  const team = await teamInScope(db, c.get('key'), teamIdOrName)
  if (team) return team
  const { status, code, message } = teamNotFound(teamIdOrName)
  return openAIError(c, status, code, message)
}

/**
 * Same for routes about one key: the key row, or the 404 to return.
 * @example
 * const key = await authorizeKeyScope(c, db, c.req.param('id'))
 * if (key instanceof Response) return key
 */
export async function authorizeKeyScope(c: Context<GatewayEnv>, db: GatewayDb, keyId: string): Promise<ApiKeyRow | Response> {
  const row = await keyInScope(db, c.get('key'), keyId)
  if (row) return row
  const { status, code, message } = keyNotFound(keyId)
  return openAIError(c, status, code, message)
}
