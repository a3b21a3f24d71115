import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startFakeNodeHost, type FakeNodeHost } from '../fakes/node-host.js'
import { callAs, teamWithRoles } from '../support/admin-as.js'
import { startTestGateway, teamWithKey } from '../support/gateway.js'
import { waitFor } from '../support/net.js'
import { adminHealth, chat, nodeHostsEnv } from './pool-support.js'

const SECRET = 'admin-health-node-host-secret'
let deepseek: FakeDeepSeek
let box: FakeNodeHost
let gw: RunningGateway
let name: string

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  box = await startFakeNodeHost({ secret: SECRET })
  const pool = nodeHostsEnv([{ url: `${box.url}/`, secret: SECRET, models: ['deepseek-flash'] }])
  name = pool.names[0]!
  gw = await startTestGateway({ env: { NODE_HOSTS: pool.value, DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, HEALTH_PROBE_INTERVAL_MS: '100' } })
})

afterAll(async () => {
  await gw?.close()
  await box?.close()
  await deepseek?.close()
})

describe('GET /admin/health', () => {
  it("shows each node-host's breaker, last error, latency and /health numbers, and hosted's error rate", async () => {
    const { key } = await teamWithKey(gw, { mode: 'local-first' })
    await (await chat(gw, key)).text()
    await (await chat(gw, key, { fake_local: { status: 503 } })).text()
    const hostedFail = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-moe-backend': 'hosted' },
      body: JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'x' }], fake_behavior: { status: 500 } }),
    })
    expect(hostedFail.status).toBe(500)

    const body = await waitFor(async () => {
      const b = await adminHealth(gw)
      return b.local.hosts[0]?.decode_tokens_per_second !== null ? b : undefined
    }, 10_000, 'a probe result')
    expect(body.local.hosts).toEqual([
      expect.objectContaining({ name, host: new URL(box.url).host, models: ['deepseek-flash'], breaker: 'closed', last_error: 'status_503', decode_tokens_per_second: 12.5, health_error: null, cpu_variant: null, slots: { total: 1, busy: 0 }, queue: { depth: 0, max: 4 } }),
    ])
    expect(body.local.hosts[0]!.latency_p50_ms).toBeGreaterThanOrEqual(0)
    // The one 503 went to hosted (a success); the forced 500 is hosted's own failure.
    expect(body.hosted).toMatchObject({ configured: true, samples: 2, error_rate: 0.5, last_error: 'status_500' })
    expect(JSON.stringify(body)).not.toContain(SECRET)
  })

  it('is for gateway admins only: members and team-admins get 403', async () => {
    const { teamAdmin, member } = await teamWithRoles(gw, 'health')
    for (const k of [teamAdmin.key, member.key]) expect((await callAs(gw, k, 'GET', '/admin/health')).status).toBe(403)
  })
})
