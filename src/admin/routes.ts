import { Hono, type Context } from 'hono'
import type { KeyVerifier } from '../auth/key-verifier.js'
import type { GatewayDb } from '../db/client.js'
import type { GatewayEnv } from '../env.js'
import { openAIError } from '../openai/errors.js'
import { allTeams, createKey, createTeam, keysOf, revoke, setTeamRouting, type OpResult } from './operations.js'

async function jsonBody(c: Context): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await c.req.json()
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function answer<T>(c: Context, result: OpResult<T>, okStatus: 200 | 201 = 200): Response {
  return result.ok ? c.json(result.value as object, okStatus) : openAIError(c, result.status, result.code, result.message)
}

const badJson = (c: Context) => openAIError(c, 400, 'invalid_json', 'Send a JSON object body')

/**
 * `/admin`: teams and keys. Mounted behind requireApiKey + requireAdmin.
 * Changes made here drop the affected cache entries at once in this process;
 * other processes see them within the key cache TTL.
 */
export function adminRoutes(deps: { db: GatewayDb; keys: KeyVerifier }): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>()

  app.post('/teams', async (c) => {
    const body = await jsonBody(c)
    return body ? answer(c, await createTeam(deps.db, body.name), 201) : badJson(c)
  })

  app.get('/teams', async (c) => c.json({ object: 'list', data: await allTeams(deps.db) }))

  app.patch('/teams/:team', async (c) => {
    const body = await jsonBody(c)
    if (!body) return badJson(c)
    const result = await setTeamRouting(deps.db, c.req.param('team'), body)
    if (result.ok) deps.keys.forget({ teamId: result.value.id })
    return answer(c, result)
  })

  app.post('/keys', async (c) => {
    const body = await jsonBody(c)
    return body ? answer(c, await createKey(deps.db, body), 201) : badJson(c)
  })

  app.get('/keys', async (c) => {
    const result = await keysOf(deps.db, c.req.query('team'))
    return result.ok ? c.json({ object: 'list', data: result.value }) : answer(c, result)
  })

  app.delete('/keys/:id', async (c) => {
    const result = await revoke(deps.db, c.req.param('id'))
    if (result.ok) deps.keys.forget({ keyId: result.value.id })
    return answer(c, result)
  })

  return app
}
