import { Hono } from 'hono'
import { isGatewayAdmin, type Actor } from '../auth/roles.js'
import type { GatewayDb } from '../db/client.js'
import { deleteModelAlias, listModelAliases, upsertModelAlias } from '../db/model-aliases.js'
import type { ModelAliasRow } from '../db/schema.js'
import type { GatewayEnv } from '../env.js'
import { openAIError } from '../openai/errors.js'
import { hostedModelFor } from '../routing/models.js'
import { audit } from './audit.js'
import { answer, badJson, jsonBody } from './http.js'
import { fail, ok, type OpResult } from './op-result.js'

export interface PublicModelAlias {
  alias: string
  local_model: string | null
  hosted_model: string | null
  updated_at: string
}

const publicAlias = (row: ModelAliasRow): PublicModelAlias => ({ alias: row.alias, local_model: row.localModel, hosted_model: row.hostedModel, updated_at: new Date(row.updatedAt).toISOString() })

const MAX_NAME_CHARS = 200
const modelName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_CHARS

/** Creates or replaces an alias: at least one backend's model, and a hosted one DeepSeek has. */
export async function putModelAlias(db: GatewayDb, actor: Actor, alias: string, input: { local_model?: unknown; hosted_model?: unknown }, nowMs: number): Promise<OpResult<PublicModelAlias>> {
  if (!modelName(alias)) return fail(400, 'invalid_alias', `The alias must be 1-${MAX_NAME_CHARS} characters`)
  // A built-in hosted name keeps its meaning: an alias may not redefine what clients already rely on.
  if (hostedModelFor(alias)) return fail(400, 'alias_shadows_model', `'${alias}' is a hosted model name; choose another alias`)
  const local = input.local_model ?? null
  const hosted = input.hosted_model ?? null
  if ((local !== null && !modelName(local)) || (hosted !== null && !modelName(hosted))) return fail(400, 'invalid_request_error', `local_model and hosted_model must be 1-${MAX_NAME_CHARS} characters, or null`)
  if (local === null && hosted === null) return fail(400, 'invalid_request_error', 'Send local_model and/or hosted_model')
  if (hosted !== null && !hostedModelFor(hosted)) return fail(400, 'invalid_hosted_model', `hosted_model '${hosted}' is not a hosted model name (see /v1/models)`)
  const row = await upsertModelAlias(db, { alias, localModel: local, hostedModel: hosted, updatedAt: nowMs })
  await audit(db, actor, { teamId: null, action: 'model_alias.set', target: alias, details: { local_model: local, hosted_model: hosted } })
  return ok(publicAlias(row))
}

export async function removeModelAlias(db: GatewayDb, actor: Actor, alias: string): Promise<OpResult<{ alias: string; deleted: true }>> {
  const row = await deleteModelAlias(db, alias)
  if (!row) return fail(404, 'alias_not_found', `No model alias '${alias}'`)
  await audit(db, actor, { teamId: null, action: 'model_alias.delete', target: alias, details: { local_model: row.localModel, hosted_model: row.hostedModel } })
  return ok({ alias, deleted: true })
}

/**
 * `/admin/models/aliases`: list (GET), set (PUT /:alias {local_model, hosted_model}), delete
 * (DELETE /:alias). Gateway admins only: an alias changes routing for every team. A change drops
 * this process's alias copy at once; other processes see it within their alias cache time.
 */
export function modelAliasRoutes(deps: { db: GatewayDb; forget: () => void; now: () => number }): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>()
  app.use('*', async (c, next) => {
    if (!isGatewayAdmin(c.get('key'))) return openAIError(c, 403, 'admin_required', 'Model aliases need a gateway admin key')
    await next()
  })
  app.get('/', async (c) => c.json({ object: 'list', data: (await listModelAliases(deps.db)).map(publicAlias) }))
  app.put('/:alias', async (c) => {
    const body = await jsonBody(c)
    if (!body) return badJson(c)
    const result = await putModelAlias(deps.db, c.get('key'), c.req.param('alias'), body, deps.now())
    if (result.ok) deps.forget()
    return answer(c, result)
  })
  app.delete('/:alias', async (c) => {
    const result = await removeModelAlias(deps.db, c.get('key'), c.req.param('alias'))
    if (result.ok) deps.forget()
    return answer(c, result)
  })
  return app
}
