import type { CounterWant, RateScope } from '../db/rate-limits.js'
import type { ScopeLimits } from './rate-limit-cache.js'
import { resetDuration } from './rate-window.js'

export type RateKind = 'requests' | 'tokens'

/** One limit a request is counted against: a counter bucket, how much this request adds, the cap. */
export interface RateMeter extends CounterWant {
  kind: RateKind
  scope: RateScope
}

/** The meters of a request: one per configured rate of the key and of its team. */
export function metersFor(limits: readonly ScopeLimits[], reservedTokens: number): RateMeter[] {
  const meters: RateMeter[] = []
  for (const l of limits) {
    if (l.requestsPerMinute !== null) meters.push({ kind: 'requests', scope: l.scope, bucket: `${l.scope}:${l.scopeId}:rpm`, amount: 1, limit: l.requestsPerMinute })
    if (l.tokensPerMinute !== null) meters.push({ kind: 'tokens', scope: l.scope, bucket: `${l.scope}:${l.scopeId}:tpm`, amount: reservedTokens, limit: l.tokensPerMinute })
  }
  return meters
}

/**
 * OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` headers. When both the key and
 * its team limit the same rate, the one with less room left is shown: it is the one that binds.
 */
export function rateLimitHeaders(meters: readonly RateMeter[], usedByBucket: ReadonlyMap<string, number>, resetMs: number): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const kind of ['requests', 'tokens'] as const) {
    let binding: { limit: number; remaining: number } | undefined
    for (const m of meters) {
      if (m.kind !== kind) continue
      const remaining = Math.max(0, m.limit - (usedByBucket.get(m.bucket) ?? 0))
      if (!binding || remaining < binding.remaining) binding = { limit: m.limit, remaining }
    }
    if (!binding) continue
    headers[`x-ratelimit-limit-${kind}`] = String(binding.limit)
    headers[`x-ratelimit-remaining-${kind}`] = String(binding.remaining)
    headers[`x-ratelimit-reset-${kind}`] = resetDuration(resetMs)
  }
  return headers
}

const whose = (scope: RateScope) => (scope === 'key' ? "this key's" : "the team's")

/** Says which limit refused the request, with the numbers the caller needs to adjust. */
export function refusalMessage(meter: RateMeter, used: number, retryAfterS: number): string {
  const need = meter.kind === 'tokens' ? `, this request may use up to ${meter.amount}` : ''
  return `Rate limit reached: ${whose(meter.scope)} ${meter.kind} per minute (limit ${meter.limit}, used ${used}${need}). Try again in ${retryAfterS}s.`
}

/** A request whose worst case alone exceeds a tokens-per-minute limit can never be admitted; retrying will not help. */
export function tooLargeMessage(meter: RateMeter, promptTokensBound: number, maxCompletionTokens: number | undefined): string {
  const completion = maxCompletionTokens === undefined ? `${meter.amount - promptTokensBound} (the default when max_tokens is absent)` : `${maxCompletionTokens} (max_tokens)`
  return `Request too large for ${whose(meter.scope)} tokens-per-minute limit of ${meter.limit}: it may use up to ${meter.amount} tokens (prompt up to ${promptTokensBound} + completion ${completion}). Lower max_tokens or shorten the prompt.`
}
