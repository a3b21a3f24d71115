import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { createTestKey, teamWithRoles } from '../support/admin-as.js'
import { ADMIN_KEY, startTestGateway, usageRowsOf } from '../support/gateway.js'
import { cellValues, parseCsv, rowValues, signedIn, testValue, type DashboardBrowser } from './dashboard-support.js'

type Row = Awaited<ReturnType<typeof usageRowsOf>>[number]

let deepseek: FakeDeepSeek
let gw: RunningGateway
let a: Awaited<ReturnType<typeof teamWithRoles>>
let b: Awaited<ReturnType<typeof teamWithRoles>>
let rowsA: Row[]
let rowsB: Row[]
/** Ids and names of team B that must never show up for team A's viewers. */
let secretsOfB: string[]

async function chat(key: string, model: string, content = 'What does the dashboard show?'): Promise<void> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], max_tokens: 32 }),
  })
  await res.arrayBuffer()
}

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  gw = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url } })
  a = await teamWithRoles(gw, 'dash-iso-a', { backend_mode: 'hosted' })
  b = await teamWithRoles(gw, 'dash-iso-b', { backend_mode: 'hosted' })
  const bSecret = await createTestKey(gw, { team: b.team.name, name: 'b-only-key-name' })
  await chat(a.member.key, 'deepseek-flash')
  await chat(a.member.key, 'deepseek-v4-pro', 'A longer question, so the token counts differ from the first one.')
  await chat(a.teamAdmin.key, 'deepseek-flash')
  await chat(b.member.key, 'deepseek-reasoner')
  await chat(bSecret.key, 'deepseek-flash')
  await chat(b.member.key, 'b-only-model-name')
  rowsA = await usageRowsOf(gw, a.team.id)
  rowsB = await usageRowsOf(gw, b.team.id)
  secretsOfB = [b.team.id, b.team.name, b.member.id, b.teamAdmin.id, bSecret.id, 'b-only-key-name', 'b-only-model-name', ...rowsB.map((r) => r.id)]
})
afterAll(async () => {
  await gw?.close()
  await deepseek?.close()
})

const sum = (rows: Row[], pick: (r: Row) => number) => rows.reduce((s, r) => s + pick(r), 0)

/** The overview's exact numbers against the database's rows. */
function expectTotals(html: string, rows: Row[]): void {
  expect(rows.length).toBeGreaterThan(0)
  expect(testValue(html, 'total-requests')).toBe(String(rows.length))
  expect(testValue(html, 'total-prompt-tokens')).toBe(String(sum(rows, (r) => r.promptTokens ?? 0)))
  expect(testValue(html, 'total-cache-hit-tokens')).toBe(String(sum(rows, (r) => r.cacheHitTokens ?? 0)))
  expect(testValue(html, 'total-completion-tokens')).toBe(String(sum(rows, (r) => r.completionTokens ?? 0)))
  expect(testValue(html, 'total-reasoning-tokens')).toBe(String(sum(rows, (r) => r.reasoningTokens ?? 0)))
  expect(testValue(html, 'hosted-cost')).toBe(String(sum(rows, (r) => r.costNanoUsd ?? 0)))
  expect(testValue(html, 'local-cost')).toBe(String(sum(rows, (r) => r.localCostNanoUsd ?? 0)))
  expect(testValue(html, 'local-share')).toBe(String(rows.filter((r) => r.backend === 'local').length))
}

/** Every response this browser saw is free of team B's ids and names. */
function expectNothingOfB(browser: DashboardBrowser): void {
  for (const seen of browser.seen) for (const secret of secretsOfB) expect(seen.body, `${seen.url} shows ${secret}`).not.toContain(secret)
}

/** What an error page says. */
const messageOf = (body: string) => /data-testid="error-message">([^<]*)</.exec(body)?.[1]

describe('dashboard isolation between teams', () => {
  it("shows a member only its own key's usage, matching the database", async () => {
    const browser = await signedIn(gw, a.member.key)
    const { res, body } = await browser.get('/dashboard/team')
    expect(res.status).toBe(200)
    const mine = rowsA.filter((r) => r.keyId === a.member.id)
    expect(mine).toHaveLength(2)
    expectTotals(body, mine)
    expect(rowValues(body, 'by-key')).toEqual([a.member.id])
    expect(rowValues(body, 'recent-requests').sort()).toEqual(mine.map((r) => r.id).sort())
    expect(body).not.toContain(a.teamAdmin.id)
    expect(body).not.toContain('backend-mode-form')
    // Members get no key picker (the team's key names are not theirs to list).
    expect(body).not.toContain('data-testid="filter-key"')
    expectNothingOfB(browser)
  })

  it("shows a team-admin its whole team, matching the database", async () => {
    const browser = await signedIn(gw, a.teamAdmin.key)
    const { body } = await browser.get('/dashboard/team')
    expect(sum(rowsA, (r) => r.costNanoUsd ?? 0)).toBeGreaterThan(0)
    expectTotals(body, rowsA)
    expect(rowValues(body, 'by-key').sort()).toEqual([a.member.id, a.teamAdmin.id].sort())
    expect(cellValues(body, 'by-key', a.member.id)[0]).toBe('2')
    const filtered = await browser.get(`/dashboard/team?key=${a.member.id}`)
    expectTotals(filtered.body, rowsA.filter((r) => r.keyId === a.member.id))
    const byModel = await browser.get('/dashboard/team?model=deepseek-v4-pro')
    expectTotals(byModel.body, rowsA.filter((r) => r.requestedModel === 'deepseek-v4-pro'))
    expectNothingOfB(browser)
  })

  for (const role of ['member', 'team-admin'] as const) {
    it(`answers a ${role} of team A asking for team B, or B's keys, as if they did not exist`, async () => {
      const browser = await signedIn(gw, role === 'member' ? a.member.key : a.teamAdmin.key)
      const asks = [`team=${b.team.id}`, `team=${b.team.name}`, `key=${b.member.id}`, `team=${b.team.id}&key=${b.member.id}`, `team=${a.team.id}&key=${b.teamAdmin.id}`]
      for (const path of ['/dashboard/team', '/dashboard/export/usage.csv', '/dashboard/export/daily.csv']) {
        for (const query of asks) {
          const { res } = await browser.get(`${path}?${query}`)
          expect(res.status, `${path}?${query}`).toBe(404)
        }
      }
      // Existing-elsewhere and nonexistent read the same.
      const foreignKey = await browser.get(`/dashboard/team?key=${b.member.id}`)
      const noKey = await browser.get('/dashboard/team?key=key_00000000-0000-0000-0000-000000000000')
      expect(noKey.res.status).toBe(404)
      expect(messageOf(foreignKey.body)).toBeDefined()
      expect(messageOf(foreignKey.body)).toBe(messageOf(noKey.body))
      const foreignTeam = await browser.get(`/dashboard/team?team=${b.team.name}`)
      const noTeam = await browser.get('/dashboard/team?team=no-such-team-anywhere')
      expect(messageOf(foreignTeam.body)).toBe(messageOf(noTeam.body))
      // The admin page is a gateway admin's.
      expect((await browser.get('/dashboard/admin')).res.status).toBe(403)
      // Not even the id that was asked for is echoed back.
      expectNothingOfB(browser)
    })
  }

  it("keeps a member to its own key in the exports, whatever key it asks for", async () => {
    const browser = await signedIn(gw, a.member.key)
    const { res, body } = await browser.get('/dashboard/export/usage.csv')
    expect(res.status).toBe(200)
    const [, ...rows] = parseCsv(body)
    expect(rows.map((r) => r[0]).sort()).toEqual(rowsA.filter((r) => r.keyId === a.member.id).map((r) => r.id).sort())
    expect((await browser.get(`/dashboard/export/usage.csv?key=${a.teamAdmin.id}`)).res.status).toBe(404)
  })

  it('lets a gateway admin pick and see any team, and lists every team on the admin page', async () => {
    const browser = await signedIn(gw, ADMIN_KEY)
    const picker = await browser.get('/dashboard/team')
    expect(picker.res.status).toBe(200)
    expect(picker.body).toContain(b.team.id)
    for (const team of [b.team.id, b.team.name]) {
      const { res, body } = await browser.get(`/dashboard/team?team=${team}`)
      expect(res.status).toBe(200)
      expectTotals(body, rowsB)
      expect(body).toContain('data-testid="team-picker"')
    }
    const csv = await browser.get(`/dashboard/export/usage.csv?team=${b.team.id}`)
    expect(parseCsv(csv.body).slice(1).map((r) => r[0]).sort()).toEqual(rowsB.map((r) => r.id).sort())
    expect((await browser.get('/dashboard/export/usage.csv')).res.status).toBe(400)

    const admin = await browser.get('/dashboard/admin')
    expect(admin.res.status).toBe(200)
    const teams = rowValues(admin.body, 'teams')
    expect(teams).toEqual(expect.arrayContaining([a.team.id, b.team.id]))
    // Spend, hosted cost, local cost, then requests.
    expect(cellValues(admin.body, 'teams', a.team.id).slice(0, 4)).toEqual([
      String(sum(rowsA, (r) => (r.costNanoUsd ?? 0) + (r.localCostNanoUsd ?? 0))),
      String(sum(rowsA, (r) => r.costNanoUsd ?? 0)),
      String(sum(rowsA, (r) => r.localCostNanoUsd ?? 0)),
      String(rowsA.length),
    ])
    expect(cellValues(admin.body, 'teams', b.team.id)[3]).toBe(String(rowsB.length))
  })
})
