import { positiveInt, type EnvVars } from './config-values.js'
import { BACKEND_MODES, type BackendMode } from './db/schema.js'

export type { EnvVars } from './config-values.js'
import { parseBudgetConfig, type BudgetConfig } from './limits/budget-config.js'
import { parseNodeHosts, type NodeHostEntry } from './backends/pool-config.js'
import { parseCompletionTokens, type AutoConfig } from './routing/auto-route.js'

/** Everything the gateway reads from its environment, parsed once at start. */
export interface GatewayConfig {
  defaultBackend: BackendMode
  hosted?: { baseUrl: string; apiKey: string }
  nodeHost?: { url: string; secret: string }
  /** The local pool: NODE_HOSTS, or NODE_HOST_URL/NODE_HOST_SECRET as one host (src/backends/pool-config.ts). */
  nodeHosts: NodeHostEntry[]
  /** Node-host health probes and per-host circuit breakers (HEALTH_PROBE_INTERVAL_MS, BREAKER_*). */
  routing: { probeIntervalMs: number; breakerFailures: number; breakerCooldownMs: number }
  /** `auto` mode's deadline and completion-length defaults (AUTO_DEFAULT_DEADLINE_MS, AUTO_COMPLETION_TOKENS). */
  auto: AutoConfig
  /** How often, at most, DeepSeek's balance is checked for teams whose hosted a 402 turned off. */
  hostedBalanceCheckMs: number
  /** Public model names the node-host serves, listed in /v1/models (LOCAL_MODELS, comma-separated). */
  localModelIds: string[]
  /** An operator-provided admin key (compared by hash, never stored). */
  adminKey?: string
  /** How long a verified key is trusted before the database is asked again. */
  keyCacheTtlMs: number
  /** Streams: upstream must send headers and first bytes within this, or the next backend is tried. */
  firstByteTimeoutMs: number
  /**
   * Streams, after the first byte: a stream that sends nothing at all (keep-alive comments count) for this
   * long is ended with an SSE error and its upstream aborted. node-host sends `: keep-alive` after 15 s of
   * silence, so the default of 120 s is eight missed keep-alives: a hung backend, not a slow one.
   */
  streamIdleTimeoutMs: number
  /** Non-streams: the whole answer must arrive within this (CPU decode of a long answer takes minutes). */
  responseTimeoutMs: number
  maxBodyBytes: number
  /** Operator's JSON price table override (parsed by the pricing module). */
  priceTableJson?: string
  /** Budget hold and cache settings (BUDGET_* variables). */
  budgets: BudgetConfig
  /** Length of a rate-limit window; 60 000 (limits are per minute). A test knob: RATE_LIMIT_WINDOW_MS. */
  rateLimitWindowMs: number
  /** Raw usage rows are kept this many days (USAGE_RETENTION_DAYS, default 90; "forever" keeps them); rollups are kept always. */
  usageRetentionDays: number | null
  /** Signs dashboard sessions (DASHBOARD_SESSION_SECRET); unset, one is made and kept in gateway_settings. */
  dashboardSessionSecret?: string
}


/** Revocation must take effect within 30 s (README promise); the TTL can be lower, never higher. */
export const MAX_KEY_CACHE_TTL_MS = 30_000


function backendMode(raw: string, name: string): BackendMode {
  if ((BACKEND_MODES as readonly string[]).includes(raw)) return raw as BackendMode
  throw new Error(`${name} must be one of ${BACKEND_MODES.join(', ')}, got "${raw}"`)
}

export function parseConfig(env: EnvVars): GatewayConfig {
  const nodeHostUrl = env.NODE_HOST_URL?.trim()
  const nodeHostSecret = env.NODE_HOST_SECRET
  if (nodeHostUrl && !nodeHostSecret) throw new Error('NODE_HOST_URL is set but NODE_HOST_SECRET is not: node-host requests must be signed')
  const nodeHost = nodeHostUrl && nodeHostSecret ? { url: nodeHostUrl.replace(/\/+$/, ''), secret: nodeHostSecret } : undefined
  const nodeHosts = parseNodeHosts(env)

  const apiKey = env.DEEPSEEK_API_KEY
  const hosted = apiKey
    ? { apiKey, baseUrl: (env.DEEPSEEK_BASE_URL?.trim() || 'https://api.deepseek.com').replace(/\/+$/, '') }
    : undefined

  const defaultBackend = env.DEFAULT_BACKEND
    ? backendMode(env.DEFAULT_BACKEND, 'DEFAULT_BACKEND')
    : nodeHosts.length > 0 ? 'local-first' : 'hosted'

  return {
    defaultBackend,
    hosted,
    nodeHost,
    nodeHosts,
    routing: {
      probeIntervalMs: positiveInt(env, 'HEALTH_PROBE_INTERVAL_MS', 5000),
      breakerFailures: positiveInt(env, 'BREAKER_FAILURES', 3),
      breakerCooldownMs: positiveInt(env, 'BREAKER_COOLDOWN_MS', 10_000),
    },
    hostedBalanceCheckMs: positiveInt(env, 'HOSTED_BALANCE_CHECK_MS', 60_000),
    auto: { defaultDeadlineMs: positiveInt(env, 'AUTO_DEFAULT_DEADLINE_MS', 30_000), ...parseCompletionTokens(env.AUTO_COMPLETION_TOKENS) },
    localModelIds: (env.LOCAL_MODELS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    adminKey: env.ADMIN_KEY || undefined,
    keyCacheTtlMs: Math.min(positiveInt(env, 'KEY_CACHE_TTL_MS', MAX_KEY_CACHE_TTL_MS), MAX_KEY_CACHE_TTL_MS),
    firstByteTimeoutMs: positiveInt(env, 'FIRST_BYTE_TIMEOUT_MS', 60_000),
    streamIdleTimeoutMs: positiveInt(env, 'STREAM_IDLE_TIMEOUT_MS', 120_000),
    responseTimeoutMs: positiveInt(env, 'RESPONSE_TIMEOUT_MS', 600_000),
    maxBodyBytes: positiveInt(env, 'MAX_BODY_BYTES', 4 * 1024 * 1024),
    priceTableJson: env.PRICE_TABLE || undefined,
    budgets: parseBudgetConfig(env, positiveInt(env, 'RESPONSE_TIMEOUT_MS', 600_000)),
    rateLimitWindowMs: positiveInt(env, 'RATE_LIMIT_WINDOW_MS', 60_000),
    usageRetentionDays: env.USAGE_RETENTION_DAYS?.trim() === 'forever' ? null : positiveInt(env, 'USAGE_RETENTION_DAYS', 90),
    dashboardSessionSecret: env.DASHBOARD_SESSION_SECRET || undefined,
  }
}
