import { Hono } from 'hono'
import type { KeyVerifier } from '../auth/key-verifier.js'
import type { GatewayDb } from '../db/client.js'
import type { GatewayEnv } from '../env.js'
import { rateLimitRoutes } from './rate-limits.js'
import type { BudgetLookup } from '../limits/budget-cache.js'
import { budgetRoutes } from './budget-routes.js'
import { adminHealthRoutes, type AdminHealthBody } from './health.js'
import { modelAliasRoutes } from './model-aliases.js'
import { answer, badJson, jsonBody, optionalJsonBody } from './http.js'
import { allTeams, auditEntries, createKey, createTeam, keysOf, revoke, rotateKey, setTeamRouting, updateKeySettings } from './operations.js'

/**
 * `/admin`: teams, keys and the audit log. Mounted behind requireApiKey + requireRole('team-admin'):
 * every operation scopes a team-admin to its own team (others are 404) and records an audit entry.
 * Changes made here drop the affected cache entries at once in this process;
 * other processes see them within the key cache TTL.
 */
export function adminRoutes(deps: { db: GatewayDb; keys: KeyVerifier; rateLimits: { forget(match: { keyId?: string; teamId?: string }): void }; budgets?: BudgetLookup; health?: () => AdminHealthBody; aliases?: { forget(): void } }): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>()
  app.route('/budgets', budgetRoutes({ db: deps.db, lookup: deps.budgets }))
  if (deps.health) app.route('/health', adminHealthRoutes(deps.health))
  app.route('/models/aliases', modelAliasRoutes({ db: deps.db, forget: () => deps.aliases?.forget(), now: () => Date.now() }))
  const { db } = deps

  app.post('/teams', async (c) => {
    const body = await jsonBody(c)
    return body ? answer(c, await createTeam(db, c.get('key'), body.name), 201) : badJson(c)
  })

  app.get('/teams', async (c) => c.json({ object: 'list', data: await allTeams(db, c.get('key')) }))

  app.patch('/teams/:team', async (c) => {
    const body = await jsonBody(c)
    if (!body) return badJson(c)
    const result = await setTeamRouting(db, c.get('key'), c.req.param('team'), body)
    if (result.ok) deps.keys.forget({ teamId: result.value.id })
    return answer(c, result)
  })

  app.post('/keys', async (c) => {
    const body = await jsonBody(c)
    return body ? answer(c, await createKey(db, c.get('key'), body), 201) : badJson(c)
  })

  app.get('/keys', async (c) => {
    const result = await keysOf(db, c.get('key'), c.req.query('team'))
    return result.ok ? c.json({ object: 'list', data: result.value }) : answer(c, result)
  })

  app.patch('/keys/:id', async (c) => {
    const body = await jsonBody(c)
    if (!body) return badJson(c)
    const result = await updateKeySettings(db, c.get('key'), c.req.param('id'), body)
    if (result.ok) deps.keys.forget({ keyId: result.value.id })
    return answer(c, result)
  })

  app.post('/keys/:id/rotate', async (c) => {
    const body = await optionalJsonBody(c)
    if (!body) return badJson(c)
    const result = await rotateKey(db, c.get('key'), c.req.param('id'), body)
    if (result.ok) deps.keys.forget({ keyId: result.value.replaces.id })
    return answer(c, result, 201)
  })

  app.delete('/keys/:id', async (c) => {
    const result = await revoke(db, c.get('key'), c.req.param('id'))
    if (result.ok) deps.keys.forget({ keyId: result.value.id })
    return answer(c, result)
  })

  app.get('/audit', async (c) => answer(c, await auditEntries(db, c.get('key'), { team: c.req.query('team'), limit: c.req.query('limit'), before: c.req.query('before') })))

  app.route('/rate-limits', rateLimitRoutes({ db, forget: (match) => deps.rateLimits.forget(match) }))

  return app
}
