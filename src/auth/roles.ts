import type { MiddlewareHandler } from 'hono'
import type { GatewayEnv } from '../env.js'
import { openAIError } from '../openai/errors.js'
import type { VerifiedKey } from './key-verifier.js'

/**
 * Who performs an admin action: a verified key, or the local CLI (which has the database
 * itself, so it is a gateway admin). A VerifiedKey is an Actor as it is.
 */
export type Actor = Pick<VerifiedKey, 'id' | 'role' | 'teamId' | 'allowedModels' | 'allowedBackends'>

/** The CLI working on the database directly; recorded in the audit log as 'cli'. */
export const CLI_ACTOR: Actor = { id: 'cli', role: 'admin', teamId: null, allowedModels: null, allowedBackends: null }

/** Gateway-wide admin: role admin and no team (ADMIN_KEY, the CLI, admin keys). */
export function isGatewayAdmin(actor: Actor): boolean {
  return actor.role === 'admin' && actor.teamId === null
}

/** The team a team-admin administers; undefined for gateway admins and members. */
export function administeredTeamId(actor: Actor): string | undefined {
  return actor.teamId !== null && (actor.role === 'team-admin' || actor.role === 'admin') ? actor.teamId : undefined
}

/**
 * Lets through keys with at least `min`: 'admin' admits gateway admins only, 'team-admin'
 * also admits team-admins (who must then be scoped with authorizeTeamScope / authorizeKeyScope).
 * Members get 403: whether a route exists is no secret, only other teams' data is.
 * @example app.use('/admin/*', requireApiKey({ keys }), requireRole('team-admin'))
 */
export function requireRole(min: 'admin' | 'team-admin'): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const key = c.get('key')
    const allowed = isGatewayAdmin(key) || (min === 'team-admin' && administeredTeamId(key) !== undefined)
    if (!allowed) {
      return openAIError(c, 403, 'admin_required', min === 'admin' ? 'This endpoint needs a gateway admin key' : 'This endpoint needs an admin or team-admin key')
    }
    await next()
  }
}
