import type { GatewayDb } from '../db/client.js'
import { adjustCounters, deleteCountersBefore, readCounters, reserveCounters } from '../db/rate-limits.js'
import type { UsageRow } from '../db/schema.js'
import type { Logger } from '../log.js'
import type { Admission, AdmissionRequest, RequestGuard } from './guard.js'
import { createRateLimitCache, type RateLimitCache } from './rate-limit-cache.js'
import { metersFor, rateLimitHeaders, refusalMessage, tooLargeMessage, type RateMeter } from './rate-meters.js'
import { msUntilWindowEnd, retryAfterSeconds, windowStartOf } from './rate-window.js'

export interface RateLimitGuard extends RequestGuard {
  /** Drops cached limits of a key or team after an admin change through this process. */
  forget: RateLimitCache['forget']
}

export interface RateLimitGuardOptions {
  db: GatewayDb
  /** Length of a rate window: 60 000 in production; tests shorten it (RATE_LIMIT_WINDOW_MS). */
  windowMs: number
  /** How long limit configuration is trusted before the database is asked again. */
  configTtlMs?: number
  /** Completion tokens counted at admission when the client sends no max_tokens. */
  defaultCompletionTokens?: number
  now: () => number
  log: Logger
}

/** Changes made through another process or isolate apply within this. */
export const RATE_LIMIT_CONFIG_TTL_MS = 5_000
/** DeepSeek's default max_tokens for chat models (api-docs.deepseek.com, "Models & Pricing"). */
export const DEFAULT_COMPLETION_TOKENS = 4_096

const UNLIMITED: Admission = { ok: true, headers: {} }

/**
 * Requests and tokens per minute, per key and per team, counted in the database (`rate_counters`)
 * so every Node process and Worker isolate shares one count. A request is counted against all its
 * meters in one conditional statement, all or none. Tokens are counted at their worst case at
 * admission (prompt bound + max_tokens, as OpenAI does) and corrected to the true total on settle.
 * Keys and teams without limits cost no database round trip (the configuration is cached).
 * @example createGateway({ ..., guards: [createRateLimitGuard({ db, windowMs: 60_000, now, log })] })
 */
const TRANSIENT_RETRIES = 3

export function createRateLimitGuard(opts: RateLimitGuardOptions): RateLimitGuard {
  const { db, windowMs, log } = opts
  const limits = createRateLimitCache({ db, ttlMs: opts.configTtlMs ?? RATE_LIMIT_CONFIG_TTL_MS, now: opts.now })
  const defaultCompletionTokens = opts.defaultCompletionTokens ?? DEFAULT_COMPLETION_TOKENS
  // Old windows are deleted at most once per window per process, by a request's settle (kept alive on Workers).
  let nextCleanupAtMs = 0

  async function admit(req: AdmissionRequest): Promise<Admission> {
    const teamId = req.key.teamId
    if (!teamId) return UNLIMITED
    const windowStart = windowStartOf(req.nowMs, windowMs)
    const resetMs = msUntilWindowEnd(req.nowMs, windowMs)
    const reservedTokens = req.promptTokensBound + (req.maxCompletionTokens ?? defaultCompletionTokens)
    let meters: RateMeter[] = []
    let used: Map<string, number> | undefined
    // A busy or briefly unreachable database is retried before the check fails open: under load
    // sqld can refuse a write for a moment, and failing open then lets a burst through the limit.
    for (let attempt = 0; ; attempt++) {
      try {
        meters = metersFor(await limits.limitsFor(req.key.id, teamId), reservedTokens)
        if (meters.length === 0) return UNLIMITED
        const tooLarge = meters.find((m) => m.amount > m.limit)
        if (tooLarge) {
          const headers = rateLimitHeaders(meters, await readCounters(db, windowStart, meters.map((m) => m.bucket)), resetMs)
          return { ok: false, status: 429, code: 'rate_limit_exceeded', message: tooLargeMessage(tooLarge, req.promptTokensBound, req.maxCompletionTokens), headers }
        }
        used = await reserveCounters(db, windowStart, meters)
        if (!used) {
          const current = await readCounters(db, windowStart, meters.map((m) => m.bucket))
          const blocking = meters.find((m) => (current.get(m.bucket) ?? 0) + m.amount > m.limit)
          if (blocking) return refusal(blocking, meters, current, resetMs)
          // Every bucket had room by the time it was read (a refund landed in between): try once more.
          used = await reserveCounters(db, windowStart, meters)
          if (!used) return refusal(meters[0]!, meters, current, resetMs)
        }
      } catch (err) {
        // Fail open: a database hiccup should not turn every limited request into a 500 (Envoy's
        // rate limit filter defaults to the same, failure_mode_deny: false). The usage row still lands.
        if (attempt < TRANSIENT_RETRIES) {
          await new Promise((r) => setTimeout(r, 25 * (attempt + 1)))
          continue
        }
        log.error('rate limit check failed; request admitted unlimited', { requestId: req.requestId, error: err instanceof Error ? err.name : 'unknown' })
        return UNLIMITED
      }
      break
    }

    const tokenBuckets = meters.filter((m) => m.kind === 'tokens').map((m) => m.bucket)
    const cleanupDue = req.nowMs >= nextCleanupAtMs
    if (cleanupDue) nextCleanupAtMs = req.nowMs + windowMs
    const settle = tokenBuckets.length > 0 || cleanupDue
      ? async (row: UsageRow) => {
          // Refund what the worst case over-counted (or add what a request without max_tokens overran),
          // in the window it was counted in; a window that has ended no longer matters.
          const trueTokens = (row.promptTokens ?? 0) + (row.completionTokens ?? 0)
          await adjustCounters(db, windowStart, tokenBuckets, trueTokens - reservedTokens)
          if (cleanupDue) await deleteCountersBefore(db, windowStart - windowMs)
        }
      : undefined
    return { ok: true, headers: rateLimitHeaders(meters, used, resetMs), settle }
  }

  return { name: 'rate-limits', admit, forget: limits.forget }
}

function refusal(blocking: RateMeter, meters: readonly RateMeter[], used: ReadonlyMap<string, number>, resetMs: number): Admission {
  const retryAfterS = retryAfterSeconds(resetMs)
  const message = refusalMessage(blocking, used.get(blocking.bucket) ?? 0, retryAfterS)
  return { ok: false, status: 429, code: 'rate_limit_exceeded', message, headers: { ...rateLimitHeaders(meters, used, resetMs), 'retry-after': String(retryAfterS) } }
}
