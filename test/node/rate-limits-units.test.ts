/** Pure parts of rate limiting: window arithmetic, OpenAI-style header values, which limit binds. */
import { describe, expect, it } from 'vitest'
import { metersFor, rateLimitHeaders } from '../../src/limits/rate-meters.js'
import { msUntilWindowEnd, resetDuration, retryAfterSeconds, windowStartOf } from '../../src/limits/rate-window.js'

describe('rate windows', () => {
  it('aligns windows to multiples of their length, so every process agrees on them', () => {
    expect(windowStartOf(125_000, 60_000)).toBe(120_000)
    expect(windowStartOf(120_000, 60_000)).toBe(120_000)
    expect(msUntilWindowEnd(125_000, 60_000)).toBe(55_000)
  })

  it('writes reset durations the way OpenAI does and rounds Retry-After up to whole seconds', () => {
    expect([resetDuration(250), resetDuration(12_000), resetDuration(11_001), resetDuration(90_000)]).toEqual(['250ms', '12s', '12s', '1m30s'])
    expect([retryAfterSeconds(1), retryAfterSeconds(1_000), retryAfterSeconds(1_001)]).toEqual([1, 1, 2])
  })
})

describe('rate limit headers', () => {
  it('shows the limit with the least room when the key and its team both limit a rate', () => {
    const meters = metersFor(
      [
        { scope: 'key', scopeId: 'k', requestsPerMinute: 100, tokensPerMinute: null },
        { scope: 'team', scopeId: 't', requestsPerMinute: 10, tokensPerMinute: 5_000 },
      ],
      700,
    )
    const used = new Map([['key:k:rpm', 3], ['team:t:rpm', 9], ['team:t:tpm', 1_400]])
    expect(rateLimitHeaders(meters, used, 12_000)).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '1',
      'x-ratelimit-reset-requests': '12s',
      'x-ratelimit-limit-tokens': '5000',
      'x-ratelimit-remaining-tokens': '3600',
      'x-ratelimit-reset-tokens': '12s',
    })
  })
})
