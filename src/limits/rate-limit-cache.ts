import type { GatewayDb } from '../db/client.js'
import { findRateLimitsFor, type RateScope } from '../db/rate-limits.js'

/** The limits configured on one scope; a null rate is not limited. */
export interface ScopeLimits {
  scope: RateScope
  scopeId: string
  requestsPerMinute: number | null
  tokensPerMinute: number | null
}

interface CacheEntry {
  teamId: string
  limits: ScopeLimits[]
  expiresAtMs: number
}

const MAX_CACHED_KEYS = 10_000

export interface RateLimitCache {
  /** The key's and its team's limits; an empty list (the common case) means not limited. */
  limitsFor(keyId: string, teamId: string): Promise<ScopeLimits[]>
  /** Drops cached limits after a change made through this process. */
  forget(match: { keyId?: string; teamId?: string }): void
}

/**
 * Limit configuration per key, cached for `ttlMs` (unlimited keys too), so a key without limits
 * costs no database round trip. A change made through another process or isolate is seen here
 * within `ttlMs`. Only settled values are cached, never a pending query: on workerd a promise
 * shared across requests can hang a request whose I/O context it was not created in.
 * @example const limits = await cache.limitsFor(key.id, key.teamId)
 */
export function createRateLimitCache(opts: { db: GatewayDb; ttlMs: number; now: () => number }): RateLimitCache {
  const entries = new Map<string, CacheEntry>()
  // Bumped by forget(), so a lookup that started before a change does not cache the old limits.
  let generation = 0

  async function load(keyId: string, teamId: string): Promise<ScopeLimits[]> {
    const startedIn = generation
    const rows = await findRateLimitsFor(opts.db, keyId, teamId)
    const limits = rows
      .filter((r) => r.requestsPerMinute !== null || r.tokensPerMinute !== null)
      .map(({ scope, scopeId, requestsPerMinute, tokensPerMinute }) => ({ scope, scopeId, requestsPerMinute, tokensPerMinute }))
    if (startedIn !== generation) return limits
    if (entries.size >= MAX_CACHED_KEYS) {
      const oldest = entries.keys().next().value
      if (oldest !== undefined) entries.delete(oldest)
    }
    entries.set(keyId, { teamId, limits, expiresAtMs: opts.now() + opts.ttlMs })
    return limits
  }

  return {
    async limitsFor(keyId, teamId) {
      const cached = entries.get(keyId)
      return cached && cached.expiresAtMs > opts.now() && cached.teamId === teamId ? cached.limits : load(keyId, teamId)
    },
    forget(match) {
      generation++
      for (const [keyId, entry] of entries) {
        if (keyId === match.keyId || (match.teamId !== undefined && entry.teamId === match.teamId)) entries.delete(keyId)
      }
    },
  }
}
