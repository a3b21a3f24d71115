/**
 * Rate limits through /v1/chat/completions: real gateway processes sharing one real sqld,
 * the fake DeepSeek upstream, real concurrency.
 */
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rateCounters } from '../../src/db/schema.js'
import { msUntilWindowEnd, windowStartOf } from '../../src/limits/rate-window.js'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeBehavior, type FakeDeepSeek } from '../fakes/deepseek.js'
import { adminCall, startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'

// Long windows for the count tests, so a window boundary never falls inside one (see freshWindow).
const LONG_WINDOW_MS = 3_600_000
// Short windows for the test that waits for the next one.
const SHORT_WINDOW_MS = 3_000
// Mirrors chat-completions' prompt bound: body bytes plus 16 template tokens per message.
const TEMPLATE_TOKENS_PER_MESSAGE = 16

let deepseek: FakeDeepSeek
let gwA: RunningGateway
let gwB: RunningGateway
let gwShort: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  const env = { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, DEFAULT_BACKEND: 'hosted' }
  ;[gwA, gwB, gwShort] = await Promise.all([
    startTestGateway({ env: { ...env, RATE_LIMIT_WINDOW_MS: String(LONG_WINDOW_MS) } }),
    startTestGateway({ env: { ...env, RATE_LIMIT_WINDOW_MS: String(LONG_WINDOW_MS) } }),
    startTestGateway({ env: { ...env, RATE_LIMIT_WINDOW_MS: String(SHORT_WINDOW_MS) } }),
  ])
})

afterAll(async () => {
  await Promise.all([gwA?.close(), gwB?.close(), gwShort?.close()])
  await deepseek?.close()
})

function chatBody(opts: { maxTokens?: number; behavior?: FakeBehavior } = {}): string {
  return JSON.stringify({
    model: 'deepseek-flash',
    messages: [{ role: 'user', content: 'hello rate limits' }],
    ...(opts.maxTokens === undefined ? {} : { max_tokens: opts.maxTokens }),
    ...(opts.behavior ? { fake_behavior: opts.behavior } : {}),
  })
}

function chat(gw: RunningGateway, key: string, body = chatBody()): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body })
}

async function setLimit(gw: RunningGateway, body: Record<string, unknown>): Promise<void> {
  const res = await adminCall(gw, 'PUT', '/admin/rate-limits', body)
  if (res.status !== 200) throw new Error(`PUT /admin/rate-limits: ${res.status} ${await res.text()}`)
}

async function counter(gw: RunningGateway, bucket: string, windowMs: number, atMs = Date.now()): Promise<number> {
  const row = await gw.db.select().from(rateCounters).where(and(eq(rateCounters.bucket, bucket), eq(rateCounters.windowStart, windowStartOf(atMs, windowMs)))).get()
  return row?.used ?? 0
}

/** Waits (polling, with a deadline) until at least `minLeftMs` of the current window remain. */
async function freshWindow(windowMs: number, minLeftMs: number): Promise<number> {
  const deadline = Date.now() + windowMs + 5_000
  while (msUntilWindowEnd(Date.now(), windowMs) < minLeftMs) {
    if (Date.now() > deadline) throw new Error('no fresh window')
    await new Promise((r) => setTimeout(r, 10))
  }
  return windowStartOf(Date.now(), windowMs)
}

async function addKey(gw: RunningGateway, team: string): Promise<{ key: string; keyId: string }> {
  const res = await adminCall(gw, 'POST', '/admin/keys', { team, name: 'second' })
  const { key, id } = (await res.json()) as { key: string; id: string }
  return { key, keyId: id }
}

describe('rate limits', () => {
  it('admits exactly the requests-per-minute limit when 50 requests race through two gateway processes', async () => {
    const { key, keyId, teamId } = await teamWithKey(gwA)
    await setLimit(gwA, { key: keyId, requests_per_minute: 10 })
    await freshWindow(LONG_WINDOW_MS, 60_000)
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => chat(i % 2 === 0 ? gwA : gwB, key)))
    const ok = responses.filter((r) => r.status === 200)
    const refused = responses.filter((r) => r.status === 429)
    expect(ok).toHaveLength(10)
    expect(refused).toHaveLength(40)
    // Each admitted request saw its own count: remaining 9, 8, ..., 0 exactly once.
    expect(ok.map((r) => Number(r.headers.get('x-ratelimit-remaining-requests'))).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    for (const res of refused) {
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('10')
      expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('0')
      expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+m)?\d+(ms|s)$/)
      const body = (await res.json()) as { error: { code: string; type: string; message: string } }
      expect(body.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_error' })
      expect(body.error.message).toContain("this key's requests per minute")
    }
    await gwB.writer.flush()
    const rows = await usageRowsOf(gwA, teamId)
    expect(rows).toHaveLength(50)
    expect(rows.filter((r) => r.status === 200)).toHaveLength(10)
    expect(rows.filter((r) => r.status === 429 && r.errorCode === 'rate_limit_exceeded')).toHaveLength(40)
    expect(await counter(gwA, `key:${keyId}:rpm`, LONG_WINDOW_MS)).toBe(10)
  })

  it('counts worst-case tokens at admission, refuses what does not fit, and refunds to true usage on settle', async () => {
    const { key, keyId, teamId } = await teamWithKey(gwA)
    const maxTokens = 200
    // Held in flight long enough that all three are admitted or refused before any settles (and
    // refunds), even when a loaded CI machine spreads their arrival over a second or more.
    const slow = chatBody({ maxTokens, behavior: { delayBeforeHeadersMs: 3_000 } })
    const reserved = new TextEncoder().encode(slow).byteLength + TEMPLATE_TOKENS_PER_MESSAGE + maxTokens
    const tokensPerMinute = Math.floor(reserved * 2.5)
    await setLimit(gwA, { key: keyId, tokens_per_minute: tokensPerMinute })
    await freshWindow(LONG_WINDOW_MS, 60_000)

    const responses = await Promise.all([chat(gwA, key, slow), chat(gwB, key, slow), chat(gwA, key, slow)])
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 429])
    const refused = responses.find((r) => r.status === 429)!
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("this key's tokens per minute")
    expect(refused.headers.get('x-ratelimit-limit-tokens')).toBe(String(tokensPerMinute))
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBeNull()
    const remaining = responses.filter((r) => r.status === 200).map((r) => Number(r.headers.get('x-ratelimit-remaining-tokens')))
    expect(remaining.sort((a, b) => a - b)).toEqual([tokensPerMinute - 2 * reserved, tokensPerMinute - reserved])

    // Settle corrects both reservations to the tokens the usage rows record.
    await gwB.writer.flush()
    const served = (await usageRowsOf(gwA, teamId)).filter((r) => r.status === 200)
    const trueTokens = served.reduce((sum, r) => sum + r.promptTokens + r.completionTokens, 0)
    expect(trueTokens).toBeGreaterThan(0)
    expect(trueTokens).toBeLessThan(reserved)
    const deadline = Date.now() + 10_000
    while ((await counter(gwA, `key:${keyId}:tpm`, LONG_WINDOW_MS)) !== trueTokens) {
      if (Date.now() > deadline) throw new Error(`tpm counter never settled to ${trueTokens}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    // Two more worst cases fit again only because of the refund.
    const later = await Promise.all([chat(gwA, key, slow), chat(gwB, key, slow)])
    expect(later.map((r) => r.status)).toEqual([200, 200])
  })

  it('refuses a request whose worst case alone exceeds the tokens-per-minute limit, without Retry-After', async () => {
    const { key, keyId } = await teamWithKey(gwA)
    await setLimit(gwA, { key: keyId, tokens_per_minute: 1_000 })
    const res = await chat(gwA, key, chatBody({ maxTokens: 5_000 }))
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBeNull()
    expect(res.headers.get('x-ratelimit-remaining-tokens')).toBe('1000')
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('rate_limit_exceeded')
    expect(body.error.message).toContain('Request too large')
    expect(body.error.message).toContain('max_tokens')
    // Without max_tokens the default completion allowance (4096) is counted, which does not fit either.
    const unbounded = await chat(gwA, key)
    expect(unbounded.status).toBe(429)
    expect(((await unbounded.json()) as { error: { message: string } }).error.message).toContain('default when max_tokens is absent')
  })

  it('applies a team limit across the team\'s keys, counts all-or-none with key limits, and admits again in the next window', async () => {
    const { team, teamId, key: first, keyId: firstId } = await teamWithKey(gwShort)
    const { key: second } = await addKey(gwShort, team)
    await setLimit(gwShort, { team, requests_per_minute: 3 })
    await setLimit(gwShort, { key: firstId, requests_per_minute: 100 })
    const windowStart = await freshWindow(SHORT_WINDOW_MS, 2_000)

    const remaining: string[] = []
    for (const key of [first, second, first]) {
      const res = await chat(gwShort, key)
      expect(res.status).toBe(200)
      remaining.push(res.headers.get('x-ratelimit-remaining-requests')!)
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('3') // the team's limit binds, not the key's 100
    }
    expect(remaining).toEqual(['2', '1', '0'])
    const refused = await chat(gwShort, first)
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("the team's requests per minute")
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(SHORT_WINDOW_MS / 1000)
    // The team refused it, so the key's counter did not move either.
    expect(await counter(gwShort, `key:${firstId}:rpm`, SHORT_WINDOW_MS, windowStart)).toBe(2)
    expect(await counter(gwShort, `team:${teamId}:rpm`, SHORT_WINDOW_MS, windowStart)).toBe(3)

    const deadline = Date.now() + SHORT_WINDOW_MS * 3
    let again: Response
    for (;;) {
      again = await chat(gwShort, second)
      if (again.status === 200 || Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(again.status).toBe(200)
    expect(windowStartOf(Date.now(), SHORT_WINDOW_MS)).toBeGreaterThan(windowStart)
    expect(again.headers.get('x-ratelimit-remaining-requests')).toBe('2')
  })

  it('applies a limit set through this process at once, even to a key cached as unlimited', async () => {
    const { key, keyId } = await teamWithKey(gwA)
    expect((await chat(gwA, key)).headers.get('x-ratelimit-limit-requests')).toBeNull()
    await setLimit(gwA, { key: keyId, requests_per_minute: 1 })
    await freshWindow(LONG_WINDOW_MS, 60_000)
    expect((await chat(gwA, key)).status).toBe(200)
    expect((await chat(gwA, key)).status).toBe(429)
  })

  it('sends no rate limit headers for a key and team without limits', async () => {
    const { key } = await teamWithKey(gwA)
    const res = await chat(gwA, key)
    expect(res.status).toBe(200)
    expect([...res.headers.keys()].filter((h) => h.startsWith('x-ratelimit'))).toEqual([])
  })

  it('deletes counters of windows older than two windows', async () => {
    const stale = `key:stale-${Math.random().toString(36).slice(2)}:rpm`
    await gwA.db.insert(rateCounters).values({ bucket: stale, windowStart: 0, used: 1 })
    // A new process cleans up with its first limited request.
    const fresh = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, DEFAULT_BACKEND: 'hosted' } })
    try {
      const { key, keyId } = await teamWithKey(fresh)
      await setLimit(fresh, { key: keyId, requests_per_minute: 5 })
      expect((await chat(fresh, key)).status).toBe(200)
      const deadline = Date.now() + 10_000
      while (await gwA.db.select().from(rateCounters).where(eq(rateCounters.bucket, stale)).get()) {
        if (Date.now() > deadline) throw new Error('stale counter never deleted')
        await new Promise((r) => setTimeout(r, 20))
      }
      const counted = await fresh.db.select().from(rateCounters).where(eq(rateCounters.bucket, `key:${keyId}:rpm`)).all()
      expect(counted.reduce((sum, r) => sum + r.used, 0)).toBe(1)
    } finally {
      await fresh.close()
    }
  })
})
