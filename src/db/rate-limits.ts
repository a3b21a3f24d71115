import { and, eq, inArray, lt, or, sql } from 'drizzle-orm'
import type { GatewayDb } from './client.js'
import { apiKeys, rateCounters, rateLimits, type RateLimitRow } from './schema.js'

export type RateScope = RateLimitRow['scope']

/** The configured limits of a key and of its team (zero, one or two rows). */
export async function findRateLimitsFor(db: GatewayDb, keyId: string, teamId: string): Promise<RateLimitRow[]> {
  return db
    .select()
    .from(rateLimits)
    .where(or(and(eq(rateLimits.scope, 'key'), eq(rateLimits.scopeId, keyId)), and(eq(rateLimits.scope, 'team'), eq(rateLimits.scopeId, teamId))))
    .all()
}

export async function findRateLimit(db: GatewayDb, scope: RateScope, scopeId: string): Promise<RateLimitRow | undefined> {
  return db.select().from(rateLimits).where(and(eq(rateLimits.scope, scope), eq(rateLimits.scopeId, scopeId))).get()
}

/** A team's own limits and those of its keys; every limit when no team is given. */
export async function listRateLimits(db: GatewayDb, teamId?: string): Promise<RateLimitRow[]> {
  const query = db.select().from(rateLimits)
  if (!teamId) return query.orderBy(rateLimits.scope, rateLimits.scopeId).all()
  const teamKeys = db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.teamId, teamId))
  return query
    .where(or(and(eq(rateLimits.scope, 'team'), eq(rateLimits.scopeId, teamId)), and(eq(rateLimits.scope, 'key'), inArray(rateLimits.scopeId, teamKeys))))
    .orderBy(rateLimits.scope, rateLimits.scopeId)
    .all()
}

export async function putRateLimit(db: GatewayDb, row: RateLimitRow): Promise<RateLimitRow> {
  const [saved] = await db
    .insert(rateLimits)
    .values(row)
    .onConflictDoUpdate({ target: [rateLimits.scope, rateLimits.scopeId], set: { requestsPerMinute: row.requestsPerMinute, tokensPerMinute: row.tokensPerMinute } })
    .returning()
  if (!saved) throw new Error('upsert returned no rate limit')
  return saved
}

export async function deleteRateLimit(db: GatewayDb, scope: RateScope, scopeId: string): Promise<boolean> {
  const rows = await db.delete(rateLimits).where(and(eq(rateLimits.scope, scope), eq(rateLimits.scopeId, scopeId))).returning({ scope: rateLimits.scope })
  return rows.length > 0
}

/** One counter increment a request asks for: `amount` more on `bucket`, allowed while the total stays <= `limit`. */
export interface CounterWant {
  bucket: string
  amount: number
  limit: number
}

/**
 * Adds every want to its counter in `windowStart`, or none of them: one statement, so the check
 * and the increment cannot interleave with another process's. SQLite materializes an INSERT's
 * SELECT before writing when it reads the target table, and the uncorrelated NOT EXISTS is
 * evaluated once, so a refusal by one bucket leaves the others untouched.
 * Returns the new totals by bucket, or undefined when some bucket had no room.
 */
export async function reserveCounters(db: GatewayDb, windowStart: number, wants: readonly CounterWant[]): Promise<Map<string, number> | undefined> {
  if (wants.length === 0) return new Map()
  const values = sql.join(wants.map((w) => sql`(${w.bucket}, ${w.amount}, ${w.limit})`), sql`, `)
  const rows = await db.all<{ bucket: string; used: number }>(sql`
    WITH wanted(bucket, amount, max_used) AS (VALUES ${values})
    INSERT INTO rate_counters (bucket, window_start, used)
    SELECT bucket, ${windowStart}, amount FROM wanted
    WHERE NOT EXISTS (
      SELECT 1 FROM wanted w LEFT JOIN rate_counters c ON c.bucket = w.bucket AND c.window_start = ${windowStart}
      WHERE coalesce(c.used, 0) + w.amount > w.max_used
    )
    ON CONFLICT (bucket, window_start) DO UPDATE SET used = rate_counters.used + excluded.used
    RETURNING bucket, used`)
  if (rows.length === 0) return undefined
  return new Map(rows.map((r) => [r.bucket, Number(r.used)]))
}

/** Current totals of some counters in one window (0 for a counter with no row yet). */
export async function readCounters(db: GatewayDb, windowStart: number, buckets: readonly string[]): Promise<Map<string, number>> {
  const used = new Map(buckets.map((b) => [b, 0]))
  if (buckets.length === 0) return used
  const rows = await db
    .select({ bucket: rateCounters.bucket, used: rateCounters.used })
    .from(rateCounters)
    .where(and(eq(rateCounters.windowStart, windowStart), inArray(rateCounters.bucket, [...buckets])))
    .all()
  for (const row of rows) used.set(row.bucket, row.used)
  return used
}

/** Adds `delta` (negative: a refund) to counters of one window, never below zero. */
export async function adjustCounters(db: GatewayDb, windowStart: number, buckets: readonly string[], delta: number): Promise<void> {
  if (buckets.length === 0 || delta === 0) return
  await db
    .update(rateCounters)
    .set({ used: sql`max(0, ${rateCounters.used} + ${delta})` })
    .where(and(eq(rateCounters.windowStart, windowStart), inArray(rateCounters.bucket, [...buckets])))
}

/** Drops counters of windows that started before `windowStart`. */
export async function deleteCountersBefore(db: GatewayDb, windowStart: number): Promise<void> {
  await db.delete(rateCounters).where(lt(rateCounters.windowStart, windowStart))
}
