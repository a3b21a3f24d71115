import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { LATENCY_BUCKETS } from '../metering/latency-buckets.js'

/** 'auto': local when its predicted latency meets the request's deadline, hosted otherwise (src/routing/auto-route.ts). */
export const BACKEND_MODES = ['hosted', 'local', 'local-first', 'hosted-first', 'auto'] as const
export type BackendMode = (typeof BACKEND_MODES)[number]

export const KEY_ROLES = ['admin', 'team-admin', 'member'] as const
export type KeyRole = (typeof KEY_ROLES)[number]

const createdAt = () => integer('created_at', { mode: 'number' }).notNull().default(sql`(unixepoch() * 1000)`)

export const teams = sqliteTable('teams', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** null: the gateway's DEFAULT_BACKEND applies. */
  backendMode: text('backend_mode', { enum: BACKEND_MODES }),
  /** Whether keys of this team may pick a backend per request with `x-moe-backend`. */
  allowBackendOverride: integer('allow_backend_override', { mode: 'boolean' }).notNull().default(true),
  /** When the team's hosted budget is spent: refuse (429 budget_exceeded) or send the request to local. */
  onHostedBudgetExhausted: text('on_hosted_budget_exhausted', { enum: ['refuse', 'local'] }).notNull().default('refuse'),
  /** Deadline `auto` routing uses when a request sends no x-moe-deadline-ms; null = AUTO_DEFAULT_DEADLINE_MS. */
  defaultDeadlineMs: integer('default_deadline_ms', { mode: 'number' }),
  /** Set when DeepSeek answered 402 (balance spent): hosted is skipped until an admin or a balance check clears it. */
  hostedDisabledAt: integer('hosted_disabled_at', { mode: 'number' }),
  hostedDisabledReason: text('hosted_disabled_reason'),
  createdAt: createdAt(),
}, (t) => [uniqueIndex('teams_name_unique').on(t.name)])

export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  /** null only for gateway-wide admin keys. */
  teamId: text('team_id').references(() => teams.id),
  name: text('name').notNull(),
  role: text('role', { enum: KEY_ROLES }).notNull(),
  /** First characters of the key, shown in listings; never enough to use it. */
  prefix: text('prefix').notNull(),
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  hash: text('hash').notNull(),
  createdAt: createdAt(),
  revokedAt: integer('revoked_at', { mode: 'number' }),
  expiresAt: integer('expires_at', { mode: 'number' }),
  /** Written at most once a minute per key (a cheap, approximate "last seen"). */
  lastUsedAt: integer('last_used_at', { mode: 'number' }),
  /** JSON array of public model names this key may use; null = any. */
  allowedModels: text('allowed_models', { mode: 'json' }).$type<string[]>(),
  /** JSON array of backends ('local' | 'hosted') this key may use; null = any. */
  allowedBackends: text('allowed_backends', { mode: 'json' }).$type<string[]>(),
  /** A per-key routing mode over the team's; null = the team's. */
  backendMode: text('backend_mode', { enum: BACKEND_MODES }),
  /** Set on the old key when it is rotated; it keeps working until its expires_at (the grace period). */
  replacedBy: text('replaced_by'),
}, (t) => [uniqueIndex('api_keys_hash_unique').on(t.hash), index('api_keys_team_idx').on(t.teamId)])

/** One row per request that reached a valid key, success or failure. */
export const usage = sqliteTable('usage', {
  /** Generated at request start, so a retried write of the same row is a no-op. */
  id: text('id').primaryKey(),
  teamId: text('team_id').notNull(),
  keyId: text('key_id').notNull(),
  createdAt: integer('created_at', { mode: 'number' }).notNull(),
  requestedModel: text('requested_model'),
  /** 'local' | 'hosted', or null when no backend was tried (a rejected request). */
  backend: text('backend'),
  /** The node-host (NODE_HOSTS name) that served a local request; null otherwise. */
  backendHost: text('backend_host'),
  upstreamModel: text('upstream_model'),
  promptTokens: integer('prompt_tokens').notNull().default(0),
  cacheHitTokens: integer('cache_hit_tokens').notNull().default(0),
  cacheMissTokens: integer('cache_miss_tokens').notNull().default(0),
  completionTokens: integer('completion_tokens').notNull().default(0),
  reasoningTokens: integer('reasoning_tokens').notNull().default(0),
  costNanoUsd: integer('cost_nano_usd').notNull().default(0),
  latencyMs: integer('latency_ms').notNull().default(0),
  ttftMs: integer('ttft_ms'),
  status: integer('status').notNull(),
  errorCode: text('error_code'),
  streamed: integer('streamed', { mode: 'boolean' }).notNull().default(false),
  fellBack: integer('fell_back', { mode: 'boolean' }).notNull().default(false),
  fallbackReason: text('fallback_reason'),
  attempts: integer('attempts').notNull().default(0),
  /** Token counts were estimated from the text that passed through (upstream sent no usage). */
  usageEstimated: integer('usage_estimated', { mode: 'boolean' }).notNull().default(false),
  /** The client went away before the response ended. */
  clientAborted: integer('client_aborted', { mode: 'boolean' }).notNull().default(false),
  /** `auto` routing's predicted local latency; compare with latency_ms for the predictor's error. */
  predictedLatencyMs: integer('predicted_latency_ms'),
  /** Why the backend order was chosen, e.g. 'auto:local-meets-deadline'; null for fixed modes. */
  routeReason: text('route_reason'),
  /** Local only: this request's share of its node-host's busy time (overlapping requests split it). */
  busyMs: integer('busy_ms'),
  /** Local only: the node-host's hourly cost (hardware + power) times busy_ms. */
  localCostNanoUsd: integer('local_cost_nano_usd').notNull().default(0),
  /** What the hosted API would have charged for these tokens at the prices in force then (= cost for hosted rows). */
  hostedEquivNanoUsd: integer('hosted_equiv_nano_usd').notNull().default(0),
}, (t) => [index('usage_team_time_idx').on(t.teamId, t.createdAt), index('usage_key_time_idx').on(t.keyId, t.createdAt)])

export type TeamRow = typeof teams.$inferSelect
export type ApiKeyRow = typeof apiKeys.$inferSelect
export type UsageRow = typeof usage.$inferInsert

export const BUDGET_PERIODS = ['day', 'week', 'month'] as const
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number]

/** A spending limit on a team or a key, per calendar period in a stated time zone. */
export const budgets = sqliteTable('budgets', {
  id: text('id').primaryKey(),
  scope: text('scope', { enum: ['team', 'key'] }).notNull(),
  /** team id or key id. */
  scopeId: text('scope_id').notNull(),
  period: text('period', { enum: BUDGET_PERIODS }).notNull(),
  /** IANA time zone the period resets in (e.g. 'UTC', 'Europe/Berlin'). */
  timeZone: text('time_zone').notNull().default('UTC'),
  /** Hard limit: requests that could exceed it are refused (429 budget_exceeded). */
  limitNanoUsd: integer('limit_nano_usd').notNull(),
  /** Soft limit: past it, responses carry a warning header. */
  softLimitNanoUsd: integer('soft_limit_nano_usd'),
  createdAt: createdAt(),
}, (t) => [uniqueIndex('budgets_scope_unique').on(t.scope, t.scopeId)])

/** Settled spend of one budget in one period. */
export const budgetSpend = sqliteTable('budget_spend', {
  budgetId: text('budget_id').notNull(),
  /** Start of the period, ms since epoch (computed in the budget's time zone). */
  periodStart: integer('period_start', { mode: 'number' }).notNull(),
  spentNanoUsd: integer('spent_nano_usd').notNull().default(0),
}, (t) => [primaryKey({ columns: [t.budgetId, t.periodStart] })])

/**
 * Worst-case cost held for a request in flight. Inserted by one conditional statement
 * (spent + live holds + this <= limit), deleted at settle; an orphan (crashed process)
 * stops counting once it expires.
 */
export const budgetHolds = sqliteTable('budget_holds', {
  id: text('id').primaryKey(),
  budgetId: text('budget_id').notNull(),
  periodStart: integer('period_start', { mode: 'number' }).notNull(),
  amountNanoUsd: integer('amount_nano_usd').notNull(),
  expiresAt: integer('expires_at', { mode: 'number' }).notNull(),
}, (t) => [index('budget_holds_budget_idx').on(t.budgetId, t.periodStart, t.expiresAt)])

/** Per-key and per-team request and token rates. */
export const rateLimits = sqliteTable('rate_limits', {
  scope: text('scope', { enum: ['team', 'key'] }).notNull(),
  scopeId: text('scope_id').notNull(),
  requestsPerMinute: integer('requests_per_minute'),
  tokensPerMinute: integer('tokens_per_minute'),
}, (t) => [primaryKey({ columns: [t.scope, t.scopeId] })])

/** Fixed-window counters shared by every gateway process and Worker isolate. */
export const rateCounters = sqliteTable('rate_counters', {
  /** e.g. 'key:<id>:rpm' */
  bucket: text('bucket').notNull(),
  windowStart: integer('window_start', { mode: 'number' }).notNull(),
  used: integer('used').notNull().default(0),
}, (t) => [primaryKey({ columns: [t.bucket, t.windowStart] })])

/** Every admin action: who, what, when, from which key. */
export const auditLog = sqliteTable('audit_log', {
  id: text('id').primaryKey(),
  at: integer('at', { mode: 'number' }).notNull(),
  /** Key id that acted ('admin_env' for ADMIN_KEY, 'cli' for the local CLI). */
  actorKeyId: text('actor_key_id').notNull(),
  actorRole: text('actor_role').notNull(),
  /** Team the action touched, if any (team-admins read their own team's entries). */
  teamId: text('team_id'),
  /** e.g. 'team.create', 'key.revoke', 'budget.set'. */
  action: text('action').notNull(),
  /** What was acted on: a team, key or budget id. */
  target: text('target'),
  /** JSON of the change, never a key or prompt. */
  details: text('details', { mode: 'json' }).$type<Record<string, unknown>>(),
}, (t) => [index('audit_log_at_idx').on(t.at), index('audit_log_team_idx').on(t.teamId, t.at)])

export type BudgetRow = typeof budgets.$inferSelect
export type RateLimitRow = typeof rateLimits.$inferSelect
export type AuditRow = typeof auditLog.$inferSelect

/**
 * Routing state of each upstream host, shared by gateway processes and Worker isolates: written
 * when a breaker or Retry-After hold changes (not per request), read every couple of seconds.
 */
export const backendState = sqliteTable('backend_state', {
  /** The node-host's name from NODE_HOSTS. */
  host: text('host').primaryKey(),
  /** 'closed' | 'open' | 'half-open' */
  breakerState: text('breaker_state').notNull(),
  openUntil: integer('open_until', { mode: 'number' }).notNull().default(0),
  retryAfterUntil: integer('retry_after_until', { mode: 'number' }).notNull().default(0),
  lastError: text('last_error'),
  updatedAt: integer('updated_at', { mode: 'number' }).notNull(),
})

/** A public model name that maps to a different model name per backend (e.g. `deepseek-r1`). */
export const modelAliases = sqliteTable('model_aliases', {
  /** What clients send as `model`. */
  alias: text('alias').primaryKey(),
  /** What node-hosts are asked for; null = local does not serve the alias. */
  localModel: text('local_model'),
  /** The DeepSeek public name it maps to (then mapped as in src/routing/models.ts); null = hosted does not serve it. */
  hostedModel: text('hosted_model'),
  updatedAt: integer('updated_at', { mode: 'number' }).notNull(),
})

export type ModelAliasRow = typeof modelAliases.$inferSelect

/**
 * Empty but inside the usage file writer's transaction: while it holds a row, the rollup trigger leaves
 * the inserted rows to that writer, which adds them summed per key (src/db/rollup-sql.ts).
 */
export const usageRollupDeferred = sqliteTable('usage_rollup_deferred', {
  writer: integer('writer').notNull(),
})

/**
 * Usage summed per hour, team, key, model, backend and node-host, kept by a trigger on every
 * usage insert (migrations/0011; the file writer adds its batches summed per key instead): dashboards read these, never raw rows, so they stay fast at any
 * volume, and rows past their retention can go without changing a total. Text parts of the key
 * are '' for "none" (NULLs would never match an upsert's conflict target).
 */
export const usageHourly = sqliteTable('usage_hourly', {
  teamId: text('team_id').notNull(),
  /** Start of the UTC hour, ms. */
  hourStart: integer('hour_start', { mode: 'number' }).notNull(),
  keyId: text('key_id').notNull(),
  model: text('model').notNull(),
  backend: text('backend').notNull(),
  host: text('host').notNull(),
  ...rollupSums(),
}, (t) => [
  primaryKey({ columns: [t.teamId, t.hourStart, t.keyId, t.model, t.backend, t.host] }),
  index('usage_hourly_hour_idx').on(t.hourStart),
])

/** usage_hourly per UTC day: months of a team's usage in a few thousand rows (src/db/rollup-plan.ts). */
export const usageDaily = sqliteTable('usage_daily', {
  teamId: text('team_id').notNull(),
  /** Start of the UTC day, ms. */
  dayStart: integer('day_start', { mode: 'number' }).notNull(),
  keyId: text('key_id').notNull(),
  model: text('model').notNull(),
  backend: text('backend').notNull(),
  host: text('host').notNull(),
  ...rollupSums(),
}, (t) => [primaryKey({ columns: [t.teamId, t.dayStart, t.keyId, t.model, t.backend, t.host] })])

/** Per hour without the key and host: day charts in any time zone, a few rows per hour per team. */
export const usageTeamHourly = sqliteTable('usage_team_hourly', {
  teamId: text('team_id').notNull(),
  hourStart: integer('hour_start', { mode: 'number' }).notNull(),
  model: text('model').notNull(),
  backend: text('backend').notNull(),
  ...rollupSums(),
}, (t) => [primaryKey({ columns: [t.teamId, t.hourStart, t.model, t.backend] }), index('usage_team_hourly_hour_idx').on(t.hourStart)])

/** Per UTC day, team, backend and model: a team's model breakdowns and charts without reading keys. */
export const usageDailyModel = sqliteTable('usage_daily_model', {
  teamId: text('team_id').notNull(),
  dayStart: integer('day_start', { mode: 'number' }).notNull(),
  model: text('model').notNull(),
  backend: text('backend').notNull(),
  ...rollupSums(),
}, (t) => [primaryKey({ columns: [t.teamId, t.dayStart, t.model, t.backend] })])

/** Per UTC day, team, backend and host: the admin view over every team, and team totals. */
export const usageDailyTeam = sqliteTable('usage_daily_team', {
  dayStart: integer('day_start', { mode: 'number' }).notNull(),
  teamId: text('team_id').notNull(),
  backend: text('backend').notNull(),
  host: text('host').notNull(),
  ...rollupSums(),
}, (t) => [primaryKey({ columns: [t.dayStart, t.teamId, t.backend, t.host] }), index('usage_daily_team_team_idx').on(t.teamId, t.dayStart)])

function rollupSums() {
  const n = (name: string) => integer(name, { mode: 'number' }).notNull().default(0)
  const histogram: Record<string, ReturnType<typeof n>> = {}
  for (let i = 0; i < LATENCY_BUCKETS; i++) {
    histogram[`lat${i}`] = n(`lat_${i}`)
    histogram[`ttft${i}`] = n(`ttft_${i}`)
  }
  return {
    requests: n('requests'),
    /** status >= 400 */
    errors: n('errors'),
    fallbacks: n('fallbacks'),
    clientAborts: n('client_aborts'),
    promptTokens: n('prompt_tokens'),
    cacheHitTokens: n('cache_hit_tokens'),
    cacheMissTokens: n('cache_miss_tokens'),
    completionTokens: n('completion_tokens'),
    reasoningTokens: n('reasoning_tokens'),
    costNanoUsd: n('cost_nano_usd'),
    localCostNanoUsd: n('local_cost_nano_usd'),
    hostedEquivNanoUsd: n('hosted_equiv_nano_usd'),
    busyMs: n('busy_ms'),
    latencyMsSum: n('latency_ms_sum'),
    ttftMsSum: n('ttft_ms_sum'),
    ttftCount: n('ttft_count'),
    /** Local 200s with a first token: completion tokens after the first, and the time they took. */
    decodeTokens: n('decode_tokens'),
    decodeMs: n('decode_ms'),
    ...histogram,
  }
}

/** Gateway-wide values made once and shared by every process (e.g. the dashboard's session secret). */
export const gatewaySettings = sqliteTable('gateway_settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
})
