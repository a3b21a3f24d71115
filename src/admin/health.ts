import { Hono } from 'hono'
import { isGatewayAdmin } from '../auth/roles.js'
import type { PoolBackend } from '../backends/pool.js'
import type { NodeHostReport } from '../backends/pool-report.js'
import type { GatewayEnv } from '../env.js'
import { openAIError } from '../openai/errors.js'
import type { OutcomeWindow } from '../routing/health-outcomes.js'

export interface AdminHealthBody {
  local: { configured: boolean; hosts: NodeHostReport[] }
  hosted: { configured: boolean; error_rate: number | null; samples: number; last_error: string | null }
}

/** What this process knows about each backend now: pool state, and hosted's recent outcomes. */
export function healthReporter(deps: { pool?: PoolBackend; hosted?: OutcomeWindow }): () => AdminHealthBody {
  return () => ({
    local: { configured: deps.pool !== undefined, hosts: deps.pool?.report() ?? [] },
    hosted: {
      configured: deps.hosted !== undefined,
      error_rate: deps.hosted?.errorRate() ?? null,
      samples: deps.hosted?.samples ?? 0,
      last_error: deps.hosted?.lastError ?? null,
    },
  })
}

/**
 * GET /admin/health: gateway admins only (host names and errors describe every team's routing).
 * Mounted under /admin, behind requireApiKey + requireRole('team-admin').
 */
export function adminHealthRoutes(report: () => AdminHealthBody): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>()
  app.get('/', (c) => {
    if (!isGatewayAdmin(c.get('key'))) return openAIError(c, 403, 'admin_required', 'This endpoint needs a gateway admin key')
    return c.json(report())
  })
  return app
}
