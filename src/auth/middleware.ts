import type { MiddlewareHandler } from 'hono'
import type { GatewayEnv } from '../env.js'
import { openAIError } from '../openai/errors.js'
import type { KeyVerifier } from './key-verifier.js'
import { bearerToken } from './key-material.js'
import { requireRole } from './roles.js'

/**
 * Rejects requests whose key is missing, unknown, revoked or expired.
 * @example app.use('/v1/*', requireApiKey({ keys }))
 */
export function requireApiKey(opts: { keys: KeyVerifier }): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'))
    if (!token) return openAIError(c, 401, 'missing_api_key', 'You did not provide an API key. Send it as "Authorization: Bearer <key>".')
    const key = await opts.keys.verify(token)
    if (!key) return openAIError(c, 401, 'invalid_api_key', 'Incorrect API key provided, or the key was revoked or has expired.')
    c.set('key', key)
    await next()
  }
}

/**
 * Lets only gateway-wide admin keys through (runs after requireApiKey).
 * @example app.post('/admin/teams', requireAdmin(), createTeamHandler)
 */
export function requireAdmin(): MiddlewareHandler<GatewayEnv> {
  return requireRole('admin')
}

/** Gives every request an id, echoed as `x-request-id` and used as its usage row id. */
export function requestId(): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    c.set('requestId', `req_${crypto.randomUUID().replace(/-/g, '')}`)
    await next()
  }
}
