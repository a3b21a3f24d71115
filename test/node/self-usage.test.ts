import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { callAs, createTestKey, errorCode, teamWithRoles } from '../support/admin-as.js'
import { ADMIN_KEY, startTestGateway, usageRowsOf } from '../support/gateway.js'

type Row = Awaited<ReturnType<typeof usageRowsOf>>[number]
interface Totals {
  requests: number
  failed_requests: number
  prompt_tokens: number
  cache_hit_tokens: number
  cache_miss_tokens: number
  completion_tokens: number
  reasoning_tokens: number
  cost_usd: string
  cost_nano_usd: number
}
interface UsageAnswer {
  scope: string
  key: { id: string } | null
  team: { id: string; name: string }
  from: string
  to: string
  totals: Totals
  by_model_and_backend: Array<Totals & { model: string | null; backend: string | null }>
  budget: { scope: string; limit_usd: string; limit_nano_usd: number; remaining_nano_usd: number } | null
}

let deepseek: FakeDeepSeek
let gw: RunningGateway
let a: Awaited<ReturnType<typeof teamWithRoles>>
let b: Awaited<ReturnType<typeof teamWithRoles>>
let a2: { id: string; key: string }
let rowsA: Row[]
let rowsB: Row[]
let range: string

async function chat(key: string, model: string, content = 'How much did I spend?'): Promise<void> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], max_tokens: 32 }),
  })
  await res.arrayBuffer()
}

async function usageOf(key: string, query = range): Promise<UsageAnswer> {
  const res = await callAs(gw, key, 'GET', `/v1/usage${query}`)
  if (res.status !== 200) throw new Error(`usage: ${res.status} ${await res.text()}`)
  return (await res.json()) as UsageAnswer
}

/** What /v1/usage should say about these rows, summed here from the database's own rows. */
function totalsOf(rows: Row[]): Totals {
  const sum = (pick: (r: Row) => number | undefined) => rows.reduce((s, r) => s + (pick(r) ?? 0), 0)
  const nano = sum((r) => r.costNanoUsd)
  return {
    requests: rows.length,
    failed_requests: rows.filter((r) => r.status >= 400).length,
    prompt_tokens: sum((r) => r.promptTokens),
    cache_hit_tokens: sum((r) => r.cacheHitTokens),
    cache_miss_tokens: sum((r) => r.cacheMissTokens),
    completion_tokens: sum((r) => r.completionTokens),
    reasoning_tokens: sum((r) => r.reasoningTokens),
    cost_nano_usd: nano,
    cost_usd: expect.stringMatching(new RegExp(`^${Math.floor(nano / 1e9)}\\.${String(nano % 1e9).padStart(9, '0').replace(/0+$/, '').padEnd(2, '0')}$`)) as unknown as string,
  }
}

function breakdownOf(rows: Row[]) {
  const groups = new Map<string, Row[]>()
  for (const r of rows) {
    const k = JSON.stringify([r.requestedModel ?? null, r.backend ?? null])
    groups.set(k, [...(groups.get(k) ?? []), r])
  }
  return [...groups.entries()].map(([k, rs]) => {
    const [model, backend] = JSON.parse(k) as [string | null, string | null]
    return { model, backend, ...totalsOf(rs) }
  })
}

const sortGroups = <T extends { model: string | null; backend: string | null }>(g: T[]) => [...g].sort((x, y) => JSON.stringify([x.model, x.backend]).localeCompare(JSON.stringify([y.model, y.backend])))

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  gw = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url } })
  const start = new Date(Date.now() - 1000).toISOString()
  a = await teamWithRoles(gw, 'usage-a', { backend_mode: 'hosted' })
  b = await teamWithRoles(gw, 'usage-b', { backend_mode: 'hosted' })
  a2 = await createTestKey(gw, { team: a.team.name, name: 'second' })
  await chat(a.member.key, 'deepseek-flash')
  await chat(a.member.key, 'deepseek-flash', 'A longer question, so the token counts differ from the first one.')
  await chat(a.member.key, 'deepseek-v4-pro')
  await chat(a.member.key, 'no-such-model') // a failed request is usage too
  await chat(a2.key, 'deepseek-flash')
  await chat(a.teamAdmin.key, 'deepseek-v4-pro')
  for (let i = 0; i < 3; i++) await chat(b.member.key, 'deepseek-flash')
  rowsA = await usageRowsOf(gw, a.team.id)
  rowsB = await usageRowsOf(gw, b.team.id)
  range = `?from=${start}&to=${new Date(Date.now() + 60_000).toISOString()}`
})
afterAll(async () => {
  await gw?.close()
  await deepseek?.close()
})

describe('GET /v1/usage', () => {
  it("shows a key its own usage, by model and backend, matching the database and nothing of other keys", async () => {
    const mine = rowsA.filter((r) => r.keyId === a.member.id)
    expect(mine).toHaveLength(4)
    expect(mine.some((r) => r.costNanoUsd > 0)).toBe(true)
    const answer = await usageOf(a.member.key)
    expect(answer).toMatchObject({ scope: 'key', key: { id: a.member.id }, team: { id: a.team.id, name: a.team.name } })
    expect(answer.totals).toEqual(totalsOf(mine))
    expect(sortGroups(answer.by_model_and_backend)).toEqual(sortGroups(breakdownOf(mine)))
    expect(answer.by_model_and_backend.find((g) => g.model === 'no-such-model')).toMatchObject({ backend: null, requests: 1, failed_requests: 1 })

    const second = await usageOf(a2.key)
    expect(second.totals).toEqual(totalsOf(rowsA.filter((r) => r.keyId === a2.id)))
    expect(second.totals.requests).toBe(1)
  })

  it("shows a team-admin its team's usage with scope=team, and never another team's", async () => {
    const team = await usageOf(a.teamAdmin.key, `${range}&scope=team`)
    expect(team).toMatchObject({ scope: 'team', key: null })
    expect(rowsA).toHaveLength(6)
    expect(team.totals).toEqual(totalsOf(rowsA))
    expect(sortGroups(team.by_model_and_backend)).toEqual(sortGroups(breakdownOf(rowsA)))
    const other = await usageOf(b.teamAdmin.key, `${range}&scope=team`)
    expect(other.totals).toEqual(totalsOf(rowsB))
    expect(other.totals.requests).toBe(3)
    expect((await usageOf(b.member.key)).totals).toEqual(totalsOf(rowsB))
  })

  it('refuses team scope to a member, and admin keys altogether', async () => {
    const member = await callAs(gw, a.member.key, 'GET', '/v1/usage?scope=team')
    expect([member.status, await errorCode(member)]).toEqual([403, 'team_scope_not_allowed'])
    const admin = await callAs(gw, ADMIN_KEY, 'GET', '/v1/usage')
    expect(admin.status).toBe(403)
  })

  it('defaults to the current UTC month, and counts only [from, to)', async () => {
    const now = new Date()
    const answer = await usageOf(a.member.key, '')
    expect(answer.from).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString())
    expect(answer.to).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString())
    const mine = rowsA.filter((r) => r.keyId === a.member.id).sort((x, y) => x.createdAt - y.createdAt)
    const cut = mine[2]!.createdAt
    const early = await usageOf(a.member.key, `?from=2000-01-01&to=${new Date(cut).toISOString()}`)
    expect(early.totals).toEqual(totalsOf(mine.filter((r) => r.createdAt < cut)))
    const none = await usageOf(a.member.key, '?from=2000-01-01&to=2000-02-01')
    expect(none.totals).toMatchObject({ requests: 0, cost_nano_usd: 0, cost_usd: '0.00' })
    expect(none.by_model_and_backend).toEqual([])
  })

  it.each(['?from=yesterday', '?to=soon', '?from=2026-02-01&to=2026-01-01', '?scope=everyone'])('refuses %s with 400', async (query) => {
    expect((await callAs(gw, a.member.key, 'GET', `/v1/usage${query}`)).status).toBe(400)
  })

  it("includes the caller's own budget, not another key's", async () => {
    const set = await callAs(gw, ADMIN_KEY, 'PUT', '/admin/budgets', { key: a.member.id, period: 'month', limit_usd: '5.00' })
    expect(set.status).toBe(200)
    const answer = await usageOf(a.member.key)
    expect(answer.budget).toMatchObject({ scope: 'key', limit_usd: '5.00', limit_nano_usd: 5_000_000_000 })
    expect(answer.budget!.remaining_nano_usd).toBeLessThanOrEqual(5_000_000_000)
    expect((await usageOf(a2.key)).budget).toBeNull()
    expect((await usageOf(a.teamAdmin.key, `${range}&scope=team`)).budget).toBeNull()
  })
})
