import { describe, expect, it } from 'vitest'
import { startFakeNodeHost, type FakeNodeHost } from '../fakes/node-host.js'
import { waitFor } from '../support/net.js'
import { adminCall, startTestGateway, teamWithKey, uniqueName, usageRowsOf } from '../support/gateway.js'
import { chat, hostReportOf, nodeHostsEnv, usePoolFixture } from './pool-support.js'

// `auto` mode against fake node-hosts whose /health reports different loads and speeds.
const SECRET = 'node-host-secret-for-auto-tests'
const { fakes, gateways, hostedEnv } = usePoolFixture()

function healthBody(o: { busy: number; depth: number; prefill: number | null; decode: number | null }) {
  return { status: 200, body: { status: 'ok', slots: { total: 1, busy: o.busy }, queue: { depth: o.depth, max: 64 }, tokens_per_second: { prefill: o.prefill, decode: o.decode } } }
}

/** Two hosts with the given /health, a gateway that has probed both, and an `auto` team. */
async function autoPool(healths: Array<ReturnType<typeof healthBody>>) {
  const hosts = await Promise.all(healths.map(() => startFakeNodeHost({ secret: SECRET })))
  fakes.push(...hosts)
  hosts.forEach((h, i) => { h.health = healths[i]! })
  const { names, value } = nodeHostsEnv(hosts.map((h) => ({ url: h.url, secret: SECRET })))
  const gw = await startTestGateway({ env: { ...hostedEnv(), NODE_HOSTS: value, HEALTH_PROBE_INTERVAL_MS: '60000' } })
  gateways.push(gw)
  for (const [i, name] of names.entries()) {
    const decode = (healths[i]!.body.tokens_per_second as { decode: number | null }).decode
    await waitFor(async () => (await hostReportOf(gw, name)).decode_tokens_per_second === decode, 10_000, `the probe of ${name}`)
  }
  const team = await teamWithKey(gw, { mode: 'auto' })
  return { gw, hosts, names, ...team }
}

const chatRequests = (h: FakeNodeHost) => h.requests.filter((r) => r.path === '/v1/chat/completions').length

describe('auto routing', () => {
  it('sends to hosted when every local host has a long queue, and records why', async () => {
    const slow = healthBody({ busy: 1, depth: 20, prefill: 50, decode: 2 })
    const { gw, hosts, key, teamId } = await autoPool([slow, slow])
    const res = await chat(gw, key, { max_tokens: 8 }) // 8 / 2 tok/s = 4 s own, ×21 with the queue
    await res.text()
    expect(res.headers.get('x-moe-backend')).toBe('hosted')
    expect(hosts.map(chatRequests)).toEqual([0, 0])
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'hosted', routeReason: 'auto:hosted-local-too-slow', fellBack: false })
    expect(row!.predictedLatencyMs).toBeGreaterThan(30_000)
  })

  it('keeps local on an idle fast host (the pool picks it over a busy slow one)', async () => {
    const { gw, hosts: [busy, idle], names, key, teamId } = await autoPool([healthBody({ busy: 1, depth: 6, prefill: 50, decode: 2 }), healthBody({ busy: 0, depth: 0, prefill: 2000, decode: 80 })])
    const res = await chat(gw, key, { max_tokens: 8 })
    await res.text()
    expect(res.headers.get('x-moe-backend')).toBe('local')
    expect([chatRequests(busy!), chatRequests(idle!)]).toEqual([0, 1])
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'local', backendHost: names[1], routeReason: 'auto:local-meets-deadline' })
    // ~30 prompt tokens / 2000 + 8 / 80 tok/s ≈ 115 ms
    expect(row!.predictedLatencyMs).toBeGreaterThan(50)
    expect(row!.predictedLatencyMs).toBeLessThan(1000)
    const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } })).json()) as { latency_prediction: unknown }
    expect(usage.latency_prediction).toEqual({ requests: 1, mean_abs_error_ms: Math.abs(row!.latencyMs! - row!.predictedLatencyMs!) })
  })

  it("takes the request's deadline header over the team's, and the team's over the gateway's", async () => {
    const { gw, key, team, teamId } = await autoPool([healthBody({ busy: 0, depth: 0, prefill: 100, decode: 10 })])
    // own ≈ 30/100 + 8/10 s ≈ 1.1 s: within the gateway's 30 s
    expect((await chat(gw, key, { max_tokens: 8 })).headers.get('x-moe-backend')).toBe('local')
    const patched = await adminCall(gw, 'PATCH', `/admin/teams/${team}`, { default_deadline_ms: 500 })
    expect(await patched.json()).toMatchObject({ default_deadline_ms: 500 })
    // The key cache holds the team row; the admin PATCH drops it.
    expect((await chat(gw, key, { max_tokens: 8 })).headers.get('x-moe-backend')).toBe('hosted')
    const withHeader = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-moe-deadline-ms': '5000' },
      body: JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'pool me' }], max_tokens: 8 }),
    })
    expect(withHeader.headers.get('x-moe-backend')).toBe('local')
    const bad = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-moe-deadline-ms': 'soon' },
      body: JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'x' }] }),
    })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_deadline')
    const rows = await usageRowsOf(gw, teamId)
    expect(rows.map((r) => r.routeReason)).toEqual(['auto:local-meets-deadline', 'auto:hosted-local-too-slow', 'auto:local-meets-deadline', null])
  })

  it("predicts for the host that serves a model alias's local name", async () => {
    const box = await startFakeNodeHost({ secret: SECRET })
    fakes.push(box)
    box.health = healthBody({ busy: 0, depth: 0, prefill: 2000, decode: 80 })
    const { names: [name], value } = nodeHostsEnv([{ url: box.url, secret: SECRET, models: ['r1-distill.gguf'] }])
    const gw = await startTestGateway({ env: { ...hostedEnv(), NODE_HOSTS: value, HEALTH_PROBE_INTERVAL_MS: '60000' } })
    gateways.push(gw)
    await waitFor(async () => (await hostReportOf(gw, name!)).decode_tokens_per_second === 80, 10_000, 'the probe')
    const alias = uniqueName('r1')
    expect((await adminCall(gw, 'PUT', `/admin/models/aliases/${alias}`, { local_model: 'r1-distill.gguf', hosted_model: 'deepseek-flash' })).status).toBe(200)
    const { key, teamId } = await teamWithKey(gw, { mode: 'auto' })
    const res = await chat(gw, key, { model: alias, max_tokens: 8 })
    await res.text()
    expect(res.headers.get('x-moe-backend')).toBe('local')
    expect((await usageRowsOf(gw, teamId))[0]).toMatchObject({ routeReason: 'auto:local-meets-deadline' })
  })

  it('goes hosted-first when no host has reported a decode rate', async () => {
    const { gw, hosts: [box], key, teamId } = await autoPool([healthBody({ busy: 0, depth: 0, prefill: null, decode: null })])
    expect((await chat(gw, key)).headers.get('x-moe-backend')).toBe('hosted')
    expect(chatRequests(box!)).toBe(0)
    expect((await usageRowsOf(gw, teamId))[0]).toMatchObject({ routeReason: 'auto:no-telemetry', predictedLatencyMs: null })
  })
})
