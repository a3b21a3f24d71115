import { afterAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import type { FakeBalance } from '../fakes/deepseek/types.js'
import { startFakeNodeHost, type FakeNodeHost } from '../fakes/node-host.js'
import { waitFor } from '../support/net.js'
import { adminCall, startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { chat, nodeHostsEnv } from './pool-support.js'

// A DeepSeek 402 (balance spent) turns hosted off for the team until an admin or a balance check clears it.
const SECRET = 'node-host-secret-for-402-tests'
const closers: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const close of closers.reverse()) await close()
})

async function setup(env: Record<string, string> = {}) {
  const balance: FakeBalance = { is_available: false, balance_infos: [{ currency: 'USD', total_balance: '0.00', granted_balance: '0.00', topped_up_balance: '0.00' }] }
  const deepseek: FakeDeepSeek = await startFakeDeepSeek({ balance })
  closers.push(() => deepseek.close())
  const box: FakeNodeHost = await startFakeNodeHost({ secret: SECRET })
  closers.push(() => box.close())
  const gw: RunningGateway = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, NODE_HOSTS: nodeHostsEnv([{ url: box.url, secret: SECRET }]).value, ...env } })
  closers.push(() => gw.close())
  const team = await teamWithKey(gw, { mode: 'hosted-first' })
  const hostedChats = () => deepseek.requests.filter((r) => r.path.endsWith('/chat/completions')).length
  const balanceChecks = () => deepseek.requests.filter((r) => r.path.endsWith('/user/balance')).length
  return { deepseek, balance, box, gw, hostedChats, balanceChecks, ...team }
}

async function teamView(gw: RunningGateway, team: string) {
  const list = (await (await adminCall(gw, 'GET', '/admin/teams')).json()) as { data: Array<{ name: string; hosted_disabled_at: string | null; hosted_disabled_reason: string | null }> }
  return list.data.find((t) => t.name === team)!
}

describe('hosted switched off by a DeepSeek 402', () => {
  it('sends the next requests local without touching hosted, until an admin clears it (audited)', async () => {
    const { deepseek, gw, hostedChats, balanceChecks, key, team, teamId } = await setup()
    deepseek.setBehavior({ status: 402 })
    const first = await chat(gw, key)
    expect(first.headers.get('x-moe-backend')).toBe('local')
    expect(first.headers.get('x-moe-fallback-reason')).toBe('hosted:status_402')
    expect(await teamView(gw, team)).toMatchObject({ hosted_disabled_reason: 'deepseek_402_insufficient_balance' })
    expect((await teamView(gw, team)).hosted_disabled_at).not.toBeNull()

    deepseek.setBehavior({}) // hosted would answer now: it must not be asked
    const second = await chat(gw, key)
    expect(second.headers.get('x-moe-backend')).toBe('local')
    expect(second.headers.get('x-moe-fallback-reason')).toBeNull()
    expect(hostedChats()).toBe(1)
    expect(balanceChecks()).toBe(0) // not due before HOSTED_BALANCE_CHECK_MS (60 s)

    const cleared = await adminCall(gw, 'PATCH', `/admin/teams/${team}`, { hosted_disabled: false })
    expect(await cleared.json()).toMatchObject({ hosted_disabled_at: null, hosted_disabled_reason: null })
    const third = await chat(gw, key)
    expect(third.headers.get('x-moe-backend')).toBe('hosted')
    expect(hostedChats()).toBe(2)

    const rows = await usageRowsOf(gw, teamId)
    expect(rows.map((r) => [r.backend, r.routeReason])).toEqual([['local', null], ['local', 'hosted-disabled'], ['hosted', null]])
    const auditLog = (await (await adminCall(gw, 'GET', `/admin/audit?team=${team}`)).json()) as { data: Array<{ action: string; actor_key_id: string; details: Record<string, unknown> | null }> }
    expect(auditLog.data.map((e) => e.action)).toEqual(expect.arrayContaining(['team.hosted_disable', 'team.update']))
    expect(auditLog.data.find((e) => e.action === 'team.update' && e.details?.hosted_disabled === false)).toMatchObject({ details: { was_reason: 'deepseek_402_insufficient_balance' } })
  })

  it('refuses with 503 hosted_disabled when nothing but hosted is left', async () => {
    const { deepseek, gw, hostedChats, key, team } = await setup()
    deepseek.setBehavior({ status: 402 })
    await (await chat(gw, key)).text()
    await adminCall(gw, 'PATCH', `/admin/teams/${team}`, { backend_mode: 'hosted' })
    const res = await chat(gw, key)
    expect(res.status).toBe(503)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('hosted_disabled')
    expect(body.error.message).toContain('"hosted_disabled": false')
    expect(hostedChats()).toBe(1)
  })

  it('turns hosted back on when the balance check says it is available, checking at most once per interval', async () => {
    const { deepseek, balance, gw, hostedChats, balanceChecks, key, team } = await setup({ HOSTED_BALANCE_CHECK_MS: '400' })
    deepseek.setBehavior({ status: 402 })
    await (await chat(gw, key)).text()
    deepseek.setBehavior({})
    // Still empty: requests stay local; checks are spaced by the interval.
    const startedAt = Date.now()
    await waitFor(async () => {
      await (await chat(gw, key)).text()
      return balanceChecks() >= 2
    }, 10_000, 'two balance checks')
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(400)
    expect(hostedChats()).toBe(1)

    balance.is_available = true
    await waitFor(async () => {
      const res = await chat(gw, key)
      await res.text()
      return res.headers.get('x-moe-backend') === 'hosted'
    }, 10_000, 'hosted to come back')
    expect((await teamView(gw, team)).hosted_disabled_at).toBeNull()
    const auditLog = (await (await adminCall(gw, 'GET', `/admin/audit?team=${team}`)).json()) as { data: Array<{ action: string; actor_key_id: string }> }
    expect(auditLog.data.find((e) => e.action === 'team.hosted_enable')).toMatchObject({ actor_key_id: 'balance_check' })
  })
})
