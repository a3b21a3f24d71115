import OpenAI, { RateLimitError } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { and, eq } from 'drizzle-orm'
import { budgetHolds, budgetSpend, budgets } from '../../src/db/schema.js'
import { periodBounds } from '../../src/limits/budget-period.js'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, type FakeDeepSeek } from '../fakes/deepseek.js'
import type { FakeNodeHost } from '../fakes/node-host.js'
import { startGatewayStack, type GatewayStack } from '../support/stack.js'
import { adminCall, startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { waitFor } from '../support/net.js'

const SECRET = 'node-host-secret-for-budget-tests'
let deepseek: FakeDeepSeek
let local: FakeNodeHost
let gw: RunningGateway
let stack: GatewayStack | undefined

beforeAll(async () => {
  stack = await startGatewayStack({ secret: SECRET })
  ;({ deepseek, local, gw } = stack)
})

afterAll(() => stack?.close())

interface Budget {
  id: string
  team_id: string
  limit_nano_usd: number
  spent_nano_usd: number
  held_nano_usd: number
  remaining_usd: string
  period_end: string
}

function chat(key: string, body: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'deepseek-flash', max_tokens: 50, messages: [{ role: 'user', content: 'what does this cost' }], ...body }),
    signal,
  })
}

async function putBudget(body: Record<string, unknown>): Promise<Budget> {
  const res = await adminCall(gw, 'PUT', '/admin/budgets', { period: 'month', time_zone: 'UTC', ...body })
  if (res.status !== 200) throw new Error(`budget set failed: ${res.status} ${await res.text()}`)
  return (await res.json()) as Budget
}

async function budgetNow(id: string): Promise<Budget> {
  const res = await adminCall(gw, 'GET', '/admin/budgets')
  const found = ((await res.json()) as { data: Budget[] }).data.find((b) => b.id === id)
  if (!found) throw new Error(`no budget ${id}`)
  return found
}

/** The budget once nothing is held any more (every settle has run). */
async function settled(id: string): Promise<Budget> {
  return waitFor(async () => {
    const b = await budgetNow(id)
    return b.held_nano_usd === 0 ? b : undefined
  }, 10_000, 'holds settled')
}

describe('budget holds and settles', () => {
  it('holds the worst case while a request runs, then settles to its true cost', async () => {
    const { team, teamId, key } = await teamWithKey(gw, { mode: 'hosted' })
    const budget = await putBudget({ team, limit_usd: '10.00', time_zone: 'Europe/Berlin' })
    const pending = chat(key, { fake_behavior: { contentTokens: 20, tokenDelayMs: 50 } })
    const during = await waitFor(async () => {
      const b = await budgetNow(budget.id)
      return b.held_nano_usd > 0 ? b : undefined
    }, 10_000, 'a hold while the request runs')
    expect(during.spent_nano_usd).toBe(0)
    const res = await pending
    expect(res.status).toBe(200)
    expect(res.headers.get('x-moe-budget-remaining-usd')).toBe('10.00')
    await res.json()
    const after = await settled(budget.id)
    const [row] = await usageRowsOf(gw, teamId)
    expect(row!.costNanoUsd).toBeGreaterThan(0)
    expect(row!.costNanoUsd).toBeLessThan(during.held_nano_usd)
    expect(after.spent_nano_usd).toBe(row!.costNanoUsd)
    expect(await gw.db.select().from(budgetHolds).where(eq(budgetHolds.budgetId, budget.id)).all()).toEqual([])
  })

  it('releases the hold when the upstream fails and nothing was billed', async () => {
    const { team, teamId, key } = await teamWithKey(gw, { mode: 'hosted' })
    const budget = await putBudget({ team, limit_usd: '10.00' })
    const res = await chat(key, { fake_behavior: { status: 500 } })
    expect(res.status).toBe(500)
    const after = await settled(budget.id)
    expect(after.spent_nano_usd).toBe(0)
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ status: 500, costNanoUsd: 0 })
    expect(await gw.db.select().from(budgetHolds).where(eq(budgetHolds.budgetId, budget.id)).all()).toEqual([])
  })

  it('counts a streamed request in full', async () => {
    const { team, teamId, key } = await teamWithKey(gw, { mode: 'hosted' })
    const budget = await putBudget({ team, limit_usd: '10.00' })
    const res = await chat(key, { stream: true, fake_behavior: { contentTokens: 30 } })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('[DONE]')
    const after = await settled(budget.id)
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ streamed: true, status: 200, usageEstimated: false })
    expect(row!.costNanoUsd).toBeGreaterThan(0)
    expect(after.spent_nano_usd).toBe(row!.costNanoUsd)
  })

  it('counts a stream the client abandoned, at its estimated cost', async () => {
    const { team, teamId, key } = await teamWithKey(gw, { mode: 'hosted' })
    const budget = await putBudget({ team, limit_usd: '10.00' })
    const abort = new AbortController()
    const res = await chat(key, { stream: true, max_tokens: 2000, fake_behavior: { contentTokens: 1000, tokenDelayMs: 15 } }, abort.signal)
    const reader = res.body!.getReader()
    let received = ''
    while (received.split('data: ').length < 6) received += new TextDecoder().decode((await reader.read()).value)
    abort.abort()
    const rows = await waitFor(async () => {
      const r = await usageRowsOf(gw, teamId)
      return r.length > 0 ? r : undefined
    }, 10_000, 'usage row')
    expect(rows[0]).toMatchObject({ status: 499, clientAborted: true, usageEstimated: true })
    expect(rows[0]!.costNanoUsd).toBeGreaterThan(0)
    const after = await settled(budget.id)
    expect(after.spent_nano_usd).toBe(rows[0]!.costNanoUsd)
  })
})

describe('soft and hard limits', () => {
  it('warns past the soft limit and tells how much is left', async () => {
    const { team, key } = await teamWithKey(gw, { mode: 'hosted' })
    const budget = await putBudget({ team, limit_usd: '1.00', soft_limit_usd: '0.000001' })
    const first = await chat(key)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-moe-budget-warning')).toBeNull()
    await first.json()
    const spent = (await settled(budget.id)).spent_nano_usd
    const second = await chat(key)
    expect(second.status).toBe(200)
    expect(second.headers.get('x-moe-budget-warning')).toMatch(/^soft limit reached \(team\): \$0\.\d+ of \$1\.00 used$/)
    expect(Number(second.headers.get('x-moe-budget-remaining-usd'))).toBeCloseTo((1e9 - spent) / 1e9, 9)
  })

  it('refuses with 429 budget_exceeded in OpenAI format, naming the budget, period and reset, and the SDK does not retry', async () => {
    const { team, teamId, key } = await teamWithKey(gw, { mode: 'hosted' })
    const budget = await putBudget({ team, limit_usd: '0.000001', time_zone: 'Europe/Berlin' })
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key })
    const err = await client.chat.completions.create({ model: 'deepseek-flash', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RateLimitError)
    const rate = err as RateLimitError
    expect(rate.status).toBe(429)
    expect(rate.code).toBe('budget_exceeded')
    expect(rate.type).toBe('rate_limit_error')
    expect(rate.message).toContain("team's monthly budget of $0.000001")
    expect(rate.message).toContain('(Europe/Berlin)')
    expect(rate.message).toContain(`resets at ${budget.period_end}`)
    expect(rate.headers?.get('x-moe-budget-reset')).toBe(budget.period_end)
    const rows = await usageRowsOf(gw, teamId)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ status: 429, errorCode: 'budget_exceeded', backend: null })
    expect(deepseek.requests.some((r) => (r.body as { messages?: Array<{ content?: string }> })?.messages?.[0]?.content === 'hi' && r.apiKey === key)).toBe(false)
  })

  it('enforces a key budget and a team budget, each on its own', async () => {
    const { team, teamId, key, keyId } = await teamWithKey(gw, { mode: 'hosted' })
    const other = (await (await adminCall(gw, 'POST', '/admin/keys', { team, name: 'other' })).json()) as { key: string }
    const teamBudget = await putBudget({ team, limit_usd: '10.00' })
    const keyBudget = await putBudget({ key: keyId, limit_usd: '0.000001' })
    expect(keyBudget.team_id).toBe(teamId)

    const refused = await chat(key)
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("key's monthly budget")
    // The key's refusal left nothing held on the team.
    expect((await settled(teamBudget.id)).spent_nano_usd).toBe(0)
    expect((await chat(other.key)).status).toBe(200)

    await putBudget({ key: keyId, limit_usd: '10.00' })
    await putBudget({ team, limit_usd: '0.000001' })
    const teamRefused = await chat(key)
    expect(teamRefused.status).toBe(429)
    expect(((await teamRefused.json()) as { error: { message: string } }).error.message).toContain("team's monthly budget")
    // The team's refusal released the key's hold, placed in the same transaction.
    expect((await settled(keyBudget.id)).held_nano_usd).toBe(0)
  })

  it('charges one request to both the team and the key budget', async () => {
    const { team, teamId, key, keyId } = await teamWithKey(gw, { mode: 'hosted' })
    const teamBudget = await putBudget({ team, limit_usd: '10.00' })
    const keyBudget = await putBudget({ key: keyId, limit_usd: '5.00', period: 'day' })
    const res = await chat(key)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-moe-budget-remaining-usd')).toBe('5.00')
    const [row] = await usageRowsOf(gw, teamId)
    expect((await settled(teamBudget.id)).spent_nano_usd).toBe(row!.costNanoUsd)
    expect((await settled(keyBudget.id)).spent_nano_usd).toBe(row!.costNanoUsd)
  })
})

describe('when the hosted budget is spent', () => {
  it("sends the request to local when the team says on_hosted_budget_exhausted='local'", async () => {
    const { team, teamId, key } = await teamWithKey(gw, { mode: 'hosted-first' })
    const patched = await adminCall(gw, 'PATCH', `/admin/teams/${team}`, { on_hosted_budget_exhausted: 'local' })
    expect(patched.status).toBe(200)
    expect(await patched.json()).toMatchObject({ on_hosted_budget_exhausted: 'local' })
    const budget = await putBudget({ team, limit_usd: '0.000001' })
    const localBefore = local.requests.length
    const res = await chat(key)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-moe-backend')).toBe('local')
    expect(res.headers.get('x-moe-budget-warning')).toMatch(/^hard limit reached \(team\): \$0\.00 of \$0\.000001 used; sent to local until /)
    expect(local.requests.length).toBe(localBefore + 1)
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'local', costNanoUsd: 0, status: 200 })
    expect((await settled(budget.id)).spent_nano_usd).toBe(0)
  })

  it("refuses by default, and when 'local' is set but local is not in the team's plan", async () => {
    const refuse = await teamWithKey(gw, { mode: 'hosted-first' })
    await putBudget({ team: refuse.team, limit_usd: '0.000001' })
    expect((await chat(refuse.key)).status).toBe(429)

    const hostedOnly = await teamWithKey(gw, { mode: 'hosted' })
    await adminCall(gw, 'PATCH', `/admin/teams/${hostedOnly.team}`, { on_hosted_budget_exhausted: 'local' })
    await putBudget({ team: hostedOnly.team, limit_usd: '0.000001' })
    expect((await chat(hostedOnly.key)).status).toBe(429)
  })

  it('never holds or refuses local traffic: it costs nothing', async () => {
    const { team, key } = await teamWithKey(gw, { mode: 'local' })
    const budget = await putBudget({ team, limit_usd: '0.000001' })
    const res = await chat(key)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-moe-backend')).toBe('local')
    expect((await budgetNow(budget.id)).spent_nano_usd).toBe(0)
  })

  it('rejects an unknown on_hosted_budget_exhausted value', async () => {
    const { team } = await teamWithKey(gw)
    const res = await adminCall(gw, 'PATCH', `/admin/teams/${team}`, { on_hosted_budget_exhausted: 'maybe' })
    expect(res.status).toBe(400)
  })
})

describe('periods and holds over time', () => {
  it('stops counting a hold once it expires (a crashed process never settles it)', async () => {
    const { team, key } = await teamWithKey(gw, { mode: 'hosted' })
    const budget = await putBudget({ team, limit_usd: '1.00' })
    const now = Date.now()
    const periodStart = periodBounds('month', 'UTC', now).startMs
    await gw.db.insert(budgetHolds).values({ id: `hold_orphan_${budget.id}`, budgetId: budget.id, periodStart, amountNanoUsd: 1_000_000_000, expiresAt: now + 600_000 })
    expect((await chat(key)).status).toBe(429)
    await gw.db.update(budgetHolds).set({ expiresAt: Date.now() - 1 }).where(eq(budgetHolds.id, `hold_orphan_${budget.id}`))
    expect((await chat(key)).status).toBe(200)
  })

  it("resets at midnight in the budget's time zone: last period's spend does not count", async () => {
    const { team, key } = await teamWithKey(gw, { mode: 'hosted' })
    // UTC+14: its day changes at 10:00 UTC, so this test's "today" is rarely UTC's.
    const budget = await putBudget({ team, period: 'day', time_zone: 'Pacific/Kiritimati', limit_usd: '1.00' })
    const today = periodBounds('day', 'Pacific/Kiritimati', Date.now())
    const yesterday = periodBounds('day', 'Pacific/Kiritimati', today.startMs - 1)
    expect(yesterday.endMs).toBe(today.startMs)
    await gw.db.insert(budgetSpend).values({ budgetId: budget.id, periodStart: yesterday.startMs, spentNanoUsd: 1_000_000_000 })
    expect((await chat(key)).status).toBe(200)
    await settled(budget.id)
    await gw.db.update(budgetSpend).set({ spentNanoUsd: 1_000_000_000 }).where(and(eq(budgetSpend.budgetId, budget.id), eq(budgetSpend.periodStart, today.startMs)))
    const refused = await chat(key)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('x-moe-budget-reset')).toBe(new Date(today.endMs).toISOString())
  })
})

describe('budget lookups are cached per scope', () => {
  it('does not notice a budget created behind its back until the cache entry expires', async () => {
    const cached = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, BUDGET_CACHE_TTL_MS: '2000' } })
    try {
      const { teamId, key } = await teamWithKey(cached, { mode: 'hosted' })
      const call = () => fetch(`${cached.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'deepseek-flash', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }) })
      expect((await call()).status).toBe(200)
      // Straight into the database: no admin route, so this process is not told.
      await cached.db.insert(budgets).values({ id: `budget_behind_${teamId}`, scope: 'team', scopeId: teamId, period: 'day', timeZone: 'UTC', limitNanoUsd: 1 })
      expect((await call()).status).toBe(200)
      await waitFor(async () => (await call()).status === 429, 10_000, 'the new budget to apply')
    } finally {
      await cached.close()
    }
  })
})

describe('admin API for budgets', () => {
  it('stores decimal USD exactly and lists spend, holds and the period', async () => {
    const { team, teamId } = await teamWithKey(gw)
    const res = await adminCall(gw, 'PUT', '/admin/budgets', { team, period: 'week', limit_usd: '50.000000001', soft_limit_usd: '40.00', time_zone: 'Europe/Berlin' })
    expect(res.status).toBe(200)
    const set = (await res.json()) as Record<string, unknown>
    expect(set).toMatchObject({ scope: 'team', scope_id: teamId, period: 'week', time_zone: 'Europe/Berlin', limit_usd: '50.000000001', limit_nano_usd: 50_000_000_001, soft_limit_nano_usd: 40_000_000_000, spent_usd: '0.00', remaining_usd: '50.000000001' })
    const bounds = periodBounds('week', 'Europe/Berlin', Date.now())
    expect(set.period_start).toBe(new Date(bounds.startMs).toISOString())
    const list = (await (await adminCall(gw, 'GET', `/admin/budgets?team=${team}`)).json()) as { data: Array<{ id: string }> }
    expect(list.data.map((b) => b.id)).toEqual([set.id])
    // Setting again changes the same budget.
    const again = (await (await adminCall(gw, 'PUT', '/admin/budgets', { team, period: 'day', limit_usd: '5' })).json()) as Record<string, unknown>
    expect(again).toMatchObject({ id: set.id, period: 'day', time_zone: 'UTC', limit_usd: '5.00', soft_limit_usd: null })
  })

  it('refuses bad input with 400 and unknown targets with 404', async () => {
    const { team, keyId } = await teamWithKey(gw)
    const put = (body: Record<string, unknown>) => adminCall(gw, 'PUT', '/admin/budgets', body)
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ team, period: 'month', limit_usd: 50 }, 400, 'invalid_amount'],
      [{ team, period: 'month', limit_usd: '0' }, 400, 'invalid_amount'],
      [{ team, period: 'month', limit_usd: '1.0000000001' }, 400, 'invalid_amount'],
      [{ team, period: 'year', limit_usd: '50' }, 400, 'invalid_period'],
      [{ team, period: 'month', limit_usd: '50', time_zone: 'Mars/Base' }, 400, 'invalid_time_zone'],
      [{ team, period: 'month', limit_usd: '50', soft_limit_usd: '60' }, 400, 'invalid_amount'],
      [{ team, key: keyId, period: 'month', limit_usd: '50' }, 400, 'invalid_budget_scope'],
      [{ period: 'month', limit_usd: '50' }, 400, 'invalid_budget_scope'],
      [{ team: 'no-such-team', period: 'month', limit_usd: '50' }, 404, 'team_not_found'],
      [{ key: 'key_nope', period: 'month', limit_usd: '50' }, 404, 'key_not_found'],
    ]
    for (const [body, status, code] of cases) {
      const res = await put(body)
      expect({ body, status: res.status }).toEqual({ body, status })
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code)
    }
    expect((await adminCall(gw, 'DELETE', '/admin/budgets/budget_nope')).status).toBe(404)
  })

  it('deletes a budget, after which requests are no longer limited by it', async () => {
    const { team, key } = await teamWithKey(gw, { mode: 'hosted' })
    const budget = await putBudget({ team, limit_usd: '0.000001' })
    expect((await chat(key)).status).toBe(429)
    const del = await adminCall(gw, 'DELETE', `/admin/budgets/${budget.id}`)
    expect(del.status).toBe(200)
    expect(await del.json()).toMatchObject({ id: budget.id, deleted: true })
    expect((await chat(key)).status).toBe(200)
    expect((await adminCall(gw, 'DELETE', `/admin/budgets/${budget.id}`)).status).toBe(404)
  })

  it("lets a team-admin manage its keys' budgets but not its team's cap, nor another team's", async () => {
    const { team, keyId } = await teamWithKey(gw)
    const other = await teamWithKey(gw)
    const teamAdmin = (await (await adminCall(gw, 'POST', '/admin/keys', { team, name: 'ta', role: 'team-admin' })).json()) as { key: string }
    const asTeamAdmin = (method: string, path: string, body?: unknown) =>
      fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${teamAdmin.key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    expect((await asTeamAdmin('PUT', '/admin/budgets', { key: keyId, period: 'month', limit_usd: '3' })).status).toBe(200)
    expect((await asTeamAdmin('PUT', '/admin/budgets', { team, period: 'month', limit_usd: '3' })).status).toBe(403)
    expect((await asTeamAdmin('PUT', '/admin/budgets', { key: other.keyId, period: 'month', limit_usd: '3' })).status).toBe(404)
    const list = (await (await asTeamAdmin('GET', '/admin/budgets')).json()) as { data: Array<{ scope_id: string }> }
    expect(list.data.map((b) => b.scope_id)).toEqual([keyId])
    expect((await asTeamAdmin('GET', `/admin/budgets?team=${other.team}`)).status).toBe(404)
  })
})
