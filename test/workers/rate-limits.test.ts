/** Rate limits in real workerd: the counter lives in sqld, so every isolate and Node process shares it. */
import { env } from 'cloudflare:workers'
import { createClient } from '@libsql/client/web'
import { eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/libsql/web'
import { describe, expect, it } from 'vitest'
import * as schema from '../../src/db/schema.js'
import { msUntilWindowEnd } from '../../src/limits/rate-window.js'
import { WORKER_ADMIN_KEY } from './constants.js'
import { jsonRequest, teamWithKey, usageRow, workerFetch } from './support.js'

const db = drizzle(createClient({ url: env.DATABASE_URL ?? '' }), { schema })
const body = { model: 'deepseek-flash', messages: [{ role: 'user', content: 'hello' }], max_tokens: 50 }

describe('Worker: rate limits', () => {
  it('counts requests in the database-backed counter and refuses past the limit with 429 and headers', async () => {
    const { key, teamId } = await teamWithKey('hosted')
    const keys = await (await workerFetch(`/admin/keys?team=${teamId}`, jsonRequest(WORKER_ADMIN_KEY, 'GET'))).json<{ data: Array<{ id: string }> }>()
    const keyId = keys.data[0]!.id
    const set = await workerFetch('/admin/rate-limits', jsonRequest(WORKER_ADMIN_KEY, 'PUT', { key: keyId, requests_per_minute: 2 }))
    expect(set.status).toBe(200)

    // The Worker's window is the default minute; start well inside one (polling, with a deadline).
    const deadline = Date.now() + 15_000
    while (msUntilWindowEnd(Date.now(), 60_000) < 10_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    // Both admitted requests moved the one shared counter; a third in the same window is refused.
    const first = await workerFetch('/v1/chat/completions', jsonRequest(key, 'POST', body))
    const second = await workerFetch('/v1/chat/completions', jsonRequest(key, 'POST', body))
    const third = await workerFetch('/v1/chat/completions', jsonRequest(key, 'POST', body))
    const remaining = [first, second].map((r) => r.headers.get('x-ratelimit-remaining-requests'))
    await Promise.all([first.text(), second.text()])
    expect([first.status, second.status, third.status]).toEqual([200, 200, 429])
    expect(remaining).toEqual(['1', '0'])
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await third.json<{ error: { code: string } }>()).error.code).toBe('rate_limit_exceeded')
    expect(await usageRow(third.headers.get('x-request-id')!)).toMatchObject({ status: 429, errorCode: 'rate_limit_exceeded' })
    const counters = await db.select().from(schema.rateCounters).where(eq(schema.rateCounters.bucket, `key:${keyId}:rpm`)).all()
    expect(counters.reduce((sum, c) => sum + c.used, 0)).toBe(2)
  })
})
