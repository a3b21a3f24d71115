import { Hono, type Context } from 'hono'
import { adminRoutes } from './admin/routes.js'
import { dashboardRoutes } from './dashboard/routes.js'
import type { Backend, FetchLike } from './backends/backend.js'
import { createHostedBackend } from './backends/hosted.js'
import { createPoolBackend, type PoolBackend } from './backends/pool.js'
import { healthReporter } from './admin/health.js'
import { observedBackend, OutcomeWindow } from './routing/health-outcomes.js'
import { dbHostStateStore } from './routing/host-state-store.js'
import { keyRestrictionsGuard } from './auth/key-restrictions.js'
import { KeyVerifier } from './auth/key-verifier.js'
import { hostedBalanceAvailable } from './backends/hosted-balance.js'
import { clientGoneOfSignal, type ClientGone } from './routing/client-gone.js'
import { HostedSwitch } from './routing/hosted-switch.js'
import { AliasBook } from './routing/model-aliases.js'
import { listModelAliases } from './db/model-aliases.js'
import { pruneUsage } from './db/retention-job.js'
import { LastUsedTracker } from './auth/last-used.js'
import { requestId, requireApiKey } from './auth/middleware.js'
import { requireRole } from './auth/roles.js'
import type { GatewayConfig } from './config.js'
import type { GatewayDb } from './db/client.js'
import { setLastUsed } from './db/keys.js'
import type { GatewayEnv } from './env.js'
import { BudgetLookup } from './limits/budget-cache.js'
import { budgetGuard } from './limits/budget-guard.js'
import { budgetStatusFor } from './limits/budget-status.js'
import type { RequestGuard } from './limits/guard.js'
import { createRateLimitGuard } from './limits/rate-guard.js'
import { silentLogger, type Logger } from './log.js'
import { priceTableFrom } from './metering/cost.js'
import type { CostFn } from './metering/usage-recorder.js'
import type { UsageSink } from './metering/usage-sink.js'
import { chatCompletions } from './openai/chat-completions.js'
import { openAIError } from './openai/errors.js'
import { listModels } from './openai/models.js'
import { selfUsage } from './openai/usage.js'
import type { BackendName } from './routing/plan.js'

export interface GatewayDeps {
  db: GatewayDb
  config: GatewayConfig
  usage: UsageSink
  cost: CostFn
  /** Upstream fetch: undici with keep-alive on Node, the global fetch on Workers. */
  fetch: FetchLike
  log?: Logger
  now?: () => number
  /** Checks run before upstream calls (rate limits, budgets); none by default. */
  guards?: RequestGuard[]
  /** SHA-256 hex of an API key; Web Crypto unless the runtime has a faster one (Node). */
  hashKey?: (key: string) => string | Promise<string>
  /** Whether a request's client is still there; its signal unless the runtime has a cheaper way (Node). */
  clientGone?: (c: Context) => ClientGone
}

export interface Gateway {
  app: Hono<GatewayEnv>
  keys: KeyVerifier
  /** The node-host pool, when one is configured; the Node entry starts its health probes. */
  localPool?: PoolBackend
  /** One usage-retention pass (USAGE_RETENTION_DAYS): hourly from the Node entry, by cron on Workers. */
  pruneUsage(): Promise<number>
}

interface Backends {
  backends: Partial<Record<BackendName, Backend>>
  pool?: PoolBackend
  hostedOutcomes?: OutcomeWindow
}

function backendsFrom(config: GatewayConfig, fetch: FetchLike, db: GatewayDb, log: Logger): Backends {
  const backends: Partial<Record<BackendName, Backend>> = {}
  const hostedOutcomes = config.hosted ? new OutcomeWindow() : undefined
  if (config.hosted && hostedOutcomes) backends.hosted = observedBackend(createHostedBackend({ ...config.hosted, fetch }), hostedOutcomes)
  const pool = config.nodeHosts.length > 0
    ? createPoolBackend({ hosts: config.nodeHosts, fetch, anyModelIds: config.localModelIds, ...config.routing, store: dbHostStateStore(db), log })
    : undefined
  if (pool) backends.local = pool
  return { backends, pool, hostedOutcomes }
}

/**
 * The gateway as a Hono app, the same on Node and Workers: wiring only.
 * @example const { app } = createGateway({ db, config, usage, cost, fetch })
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const log = deps.log ?? silentLogger
  const now = deps.now ?? (() => Date.now())
  const keys = new KeyVerifier(deps.db, { ttlMs: deps.config.keyCacheTtlMs, adminKey: deps.config.adminKey, now, hashKey: deps.hashKey })
  const { backends, pool, hostedOutcomes } = backendsFrom(deps.config, deps.fetch, deps.db, log)
  const lastUsed = new LastUsedTracker({ write: (keyId, atMs) => setLastUsed(deps.db, keyId, atMs), log, now })
  const budgets = new BudgetLookup(deps.db, deps.config.budgets.cacheTtlMs)
  const rateLimits = createRateLimitGuard({ db: deps.db, windowMs: deps.config.rateLimitWindowMs, now, log })
  // A key's own model/backend restrictions first, then rate limits, so a request they refuse never holds budget.
  const guards = [keyRestrictionsGuard(), rateLimits, ...(deps.guards ?? []), budgetGuard({ db: deps.db, lookup: budgets, priceTable: priceTableFrom(deps.config.priceTableJson), config: deps.config.budgets, log })]
  const app = new Hono<GatewayEnv>()

  app.use('*', requestId())
  app.get('/health', (c) => c.json({ status: 'ok', backends: Object.keys(backends) }))

  app.use('/v1/*', requireApiKey({ keys, lastUsed }))
  // Aliases change rarely; a few seconds' staleness in other processes saves a read per request.
  const aliases = new AliasBook({ load: () => listModelAliases(deps.db), ttlMs: 5000, now, log })
  app.get('/v1/models', listModels(backends, aliases))
  app.get('/v1/usage', selfUsage({ db: deps.db, now, budgetStatus: (scope, scopeId, atMs) => budgetStatusFor(deps.db, scope, scopeId, atMs) }))
  const hosted = deps.config.hosted
  const hostedSwitch = new HostedSwitch({
    db: deps.db,
    now,
    balanceAvailable: hosted ? () => hostedBalanceAvailable((url, init) => fetch(url, init), hosted.baseUrl, hosted.apiKey) : undefined,
    checkIntervalMs: deps.config.hostedBalanceCheckMs,
    forgetTeam: (teamId) => keys.forget({ teamId }),
    log,
  })
  app.post('/v1/chat/completions', chatCompletions({ config: deps.config, backends, usage: deps.usage, cost: deps.cost, now, guards, log, hostedSwitch, aliases, clientGone: deps.clientGone ?? ((c) => clientGoneOfSignal(c.req.raw.signal)) }))

  // Team-admins reach /admin too; each route scopes them to their own team (src/auth/scope.ts).
  app.use('/admin/*', requireApiKey({ keys, lastUsed }), requireRole('team-admin'))
  const health = healthReporter({ pool, hosted: hostedOutcomes })
  app.route('/admin', adminRoutes({ db: deps.db, keys, budgets, rateLimits, health, aliases }))

  // Signed in by session cookie, not bearer key; answers HTML, its 404s included.
  app.route('/dashboard', dashboardRoutes({ db: deps.db, keys, health, defaultMode: deps.config.defaultBackend, adminKey: deps.config.adminKey, sessionSecret: deps.config.dashboardSessionSecret, now, log }))

  app.notFound((c) => openAIError(c, 404, 'not_found', `Unknown route: ${c.req.method} ${new URL(c.req.url).pathname}`))
  app.onError((err, c) => {
    log.error('unhandled error', { requestId: c.get('requestId'), error: err.name })
    return openAIError(c, 500, 'internal_error', `Internal error (request ${c.get('requestId')})`)
  })
  return { app, keys, localPool: pool, pruneUsage: () => pruneUsage({ db: deps.db, days: deps.config.usageRetentionDays, now, log }) }
}
