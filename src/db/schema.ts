import { sql } from 'drizzle-orm'
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

export const BACKEND_MODES = ['hosted', 'local', 'local-first', 'hosted-first'] as const
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
}, (t) => [index('usage_team_time_idx').on(t.teamId, t.createdAt), index('usage_key_time_idx').on(t.keyId, t.createdAt)])

export type TeamRow = typeof teams.$inferSelect
export type ApiKeyRow = typeof apiKeys.$inferSelect
export type UsageRow = typeof usage.$inferInsert
