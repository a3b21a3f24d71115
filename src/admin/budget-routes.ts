import { Hono } from 'hono'
import type { GatewayDb } from '../db/client.js'
import type { GatewayEnv } from '../env.js'
import type { BudgetLookup } from '../limits/budget-cache.js'
import { budgetsOf, removeBudget, setBudget } from './budgets.js'
import { answer, badJson, jsonBody } from './http.js'

/**
 * `/admin/budgets`: set (PUT {team|key, period, limit_usd, soft_limit_usd?, time_zone?}),
 * list with the current period's spend (GET ?team= or ?key=), delete (DELETE /:id).
 * Mounted behind requireRole('team-admin'); the operations scope team-admins (src/admin/budgets.ts).
 * A change drops this process's cached budget lookup at once; other processes see it within
 * BUDGET_CACHE_TTL_MS.
 */
export function budgetRoutes(deps: { db: GatewayDb; lookup?: BudgetLookup }): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>()

  app.put('/', async (c) => {
    const body = await jsonBody(c)
    if (!body) return badJson(c)
    const result = await setBudget(deps.db, c.get('key'), body)
    if (result.ok) deps.lookup?.forget(result.value.scope, result.value.scope_id)
    return answer(c, result)
  })

  app.get('/', async (c) => {
    const result = await budgetsOf(deps.db, c.get('key'), { team: c.req.query('team'), key: c.req.query('key') })
    return result.ok ? c.json({ object: 'list', data: result.value }) : answer(c, result)
  })

  app.delete('/:id', async (c) => {
    const result = await removeBudget(deps.db, c.get('key'), c.req.param('id'))
    if (result.ok) deps.lookup?.forget(result.value.scope, result.value.scope_id)
    return answer(c, result)
  })

  return app
}
