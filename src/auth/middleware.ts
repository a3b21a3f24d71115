import type { Context, MiddlewareHandler } from 'hono'
import type { GatewayEnv } from '../env.js'
import { openAIError } from '../openai/errors.js'
import { OPERATOR_ADMIN_KEY_ID, type KeyVerifier } from './key-verifier.js'
import type { LastUsedTracker } from './last-used.js'
import { bearerToken } from './key-material.js'
import { requireRole } from './roles.js'
import { newRequestId } from './request-id.js'

/**
 * Rejects requests whose key is missing, unknown, revoked or expired, and notes (throttled,
 * off the request path) that the key was used.
 * @example app.use('/v1/*', requireApiKey({ keys, lastUsed }))
 */
export function requireApiKey(opts: { keys: KeyVerifier; lastUsed?: LastUsedTracker }): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'))
    if (!token) return openAIError(c, 401, 'missing_api_key', 'You did not provide an API key. Send it as "Authorization: Bearer <key>".')
    const key = await opts.keys.verify(token)
    if (!key) return openAIError(c, 401, 'invalid_api_key', 'Incorrect API key provided, or the key was revoked or has expired.')
    c.set('key', key)
    if (opts.lastUsed && key.id !== OPERATOR_ADMIN_KEY_ID) keepAlive(c, opts.lastUsed.touch(key.id))
    await next()
  }
}

/** Workers end a request's work with its response unless handed to waitUntil; Node has no ExecutionContext (Hono's getter throws) and needs nothing. */
function keepAlive(c: Context, pending: Promise<void> | undefined): void {
  if (!pending) return
  try {
    c.executionCtx.waitUntil(pending)
  } catch {
    // Node: the promise runs on; it logs its own failure.
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
    c.set('requestId', newRequestId())
    await next()
  }
}
