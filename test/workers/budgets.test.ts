/** Budgets in real workerd: Intl time zones, the one-statement reservation over libSQL's Web client, settle in waitUntil. */
import { describe, expect, it } from 'vitest'
import { WORKER_ADMIN_KEY } from './constants.js'
import { jsonRequest, teamWithKey, usageRow, workerFetch } from './support.js'

const body = { model: 'deepseek-flash', messages: [{ role: 'user', content: 'hello' }], max_tokens: 50 }

interface Budget { id: string; spent_nano_usd: number; held_nano_usd: number; period_end: string }

async function budgetOf(teamId: string): Promise<Budget> {
  const res = await workerFetch(`/admin/budgets?team=${teamId}`, jsonRequest(WORKER_ADMIN_KEY, 'GET'))
  return (await res.json<{ data: Budget[] }>()).data[0]!
}

describe('Worker: budgets', () => {
  it('settles a request to its true cost, then refuses with 429 budget_exceeded once the budget cannot cover one', async () => {
    const { key, teamId } = await teamWithKey('hosted')
    const set = await workerFetch('/admin/budgets', jsonRequest(WORKER_ADMIN_KEY, 'PUT', { team: teamId, period: 'week', limit_usd: '1.00', time_zone: 'Europe/Berlin' }))
    expect(set.status).toBe(200)

    const ok = await workerFetch('/v1/chat/completions', jsonRequest(key, 'POST', body))
    expect(ok.status).toBe(200)
    expect(ok.headers.get('x-moe-budget-remaining-usd')).toBe('1.00')
    await ok.text()
    const row = await usageRow(ok.headers.get('x-request-id')!)
    const deadline = Date.now() + 10_000
    let budget = await budgetOf(teamId)
    while ((budget.held_nano_usd !== 0 || budget.spent_nano_usd === 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      budget = await budgetOf(teamId)
    }
    expect(budget.spent_nano_usd).toBe(row!.costNanoUsd)

    expect((await workerFetch('/admin/budgets', jsonRequest(WORKER_ADMIN_KEY, 'PUT', { team: teamId, period: 'week', limit_usd: '0.000001', time_zone: 'Europe/Berlin' }))).status).toBe(200)
    const refused = await workerFetch('/v1/chat/completions', jsonRequest(key, 'POST', body))
    expect(refused.status).toBe(429)
    expect((await refused.json<{ error: { type: string; code: string } }>()).error).toMatchObject({ type: 'rate_limit_error', code: 'budget_exceeded' })
    expect(refused.headers.get('x-moe-budget-reset')).toBe(budget.period_end)
  })
})
