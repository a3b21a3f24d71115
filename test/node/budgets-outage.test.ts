import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type RunningGateway } from '../../src/node.js'
import { silentLogger } from '../../src/log.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { ADMIN_KEY, adminCall, teamWithKey } from '../support/gateway.js'
import { startSqld, type SqldProcess } from '../support/sqld.js'
import { waitFor } from '../support/net.js'

let deepseek: FakeDeepSeek
let sqld: SqldProcess
let gw: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  sqld = await startSqld({ dbPath: join(mkdtempSync(join(tmpdir(), 'moe-budget-outage-')), 'db') })
  gw = await startGateway({ env: { DATABASE_URL: sqld.url, ADMIN_KEY, DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, BUDGET_CACHE_TTL_MS: '30000' }, port: 0, log: silentLogger })
})

afterAll(async () => {
  await gw?.close()
  await sqld?.stop()
  await deepseek?.close()
})

describe('budgets while the database is unreachable', () => {
  it('serves teams without budgets from memory, and refuses budgeted requests (429 budget_unavailable) rather than risk overshooting', async () => {
    const budgeted = await teamWithKey(gw, { mode: 'hosted' })
    const free = await teamWithKey(gw, { mode: 'hosted' })
    expect((await adminCall(gw, 'PUT', '/admin/budgets', { team: budgeted.team, period: 'month', limit_usd: '10' })).status).toBe(200)
    const send = async (key: string) => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'deepseek-flash', max_tokens: 20, messages: [{ role: 'user', content: 'anyone home?' }] }),
      })
      const body = (await res.json()) as { error?: { code: string } }
      return { status: res.status, code: body.error?.code, retryAfter: res.headers.get('retry-after') }
    }
    // Warm the key and budget caches.
    expect((await send(budgeted.key)).status).toBe(200)
    expect((await send(free.key)).status).toBe(200)
    await gw.writer.flush()
    await sqld.stop()

    expect((await send(free.key)).status).toBe(200)
    expect(await send(budgeted.key)).toEqual({ status: 429, code: 'budget_unavailable', retryAfter: '1' })

    sqld = await startSqld({ dbPath: sqld.dbPath, port: sqld.port })
    await waitFor(async () => (await send(budgeted.key)).status === 200, 15_000, 'budgeted requests to pass again')
  })
})
