import { describe, expect, it } from 'vitest'
import { startFakeNodeHost, type FakeNodeHost } from '../fakes/node-host.js'
import { waitFor } from '../support/net.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { chat, hostReportOf, nodeHostsEnv, usePoolFixture } from './pool-support.js'

// Failure modes from the fake node-host (test/fakes/node-host.ts): host-wide behavior and /health.
const SECRET = 'node-host-secret-for-pool-tests'
const { fakes, gateways, hostedEnv } = usePoolFixture()
const hosted = hostedEnv

async function poolOf(count: number, env: Record<string, string> = {}) {
  const hosts = await Promise.all(Array.from({ length: count }, () => startFakeNodeHost({ secret: SECRET })))
  fakes.push(...hosts)
  const { names, value } = nodeHostsEnv(hosts.map((h) => ({ url: h.url, secret: SECRET })))
  const gw = await startTestGateway({ env: { ...hosted(), NODE_HOSTS: value, ...env } })
  gateways.push(gw)
  const { key, teamId } = await teamWithKey(gw, { mode: 'local-first' })
  return { gw, hosts, names, key, teamId }
}

const chatRequests = (h: FakeNodeHost) => h.requests.filter((r) => r.path === '/v1/chat/completions').length

describe('node-host pool: failure signals', () => {
  it('skips a host that answered 429 with Retry-After for that long, then tries it again', async () => {
    const { gw, hosts: [box], names: [name], key } = await poolOf(1)
    box!.behavior = { status: 429, retryAfter: '2' }
    const first = await chat(gw, key)
    expect(first.headers.get('x-moe-fallback-reason')).toBe('local:status_429')
    const heldAt = Date.now()
    box!.behavior = {}
    expect((await hostReportOf(gw, name!)).retry_after_until).toBeGreaterThan(heldAt + 1000)

    // While held, requests go to hosted without touching the box.
    const during = await chat(gw, key)
    expect(during.headers.get('x-moe-backend')).toBe('hosted')
    expect(chatRequests(box!)).toBe(1)

    await waitFor(async () => {
      const res = await chat(gw, key)
      await res.text()
      return res.headers.get('x-moe-backend') === 'local'
    }, 10_000, 'the box to be tried again')
    // Not before the 2 s it asked for, counted from when the box answered 429.
    const [refused, retried] = box!.requests
    expect(retried!.atMs - refused!.atMs).toBeGreaterThanOrEqual(2000)
  })

  it('opens the breaker after consecutive failures, skips the host, then a half-open trial closes it', async () => {
    const { gw, hosts: [box], names: [name], key } = await poolOf(1, { BREAKER_FAILURES: '2', BREAKER_COOLDOWN_MS: '1500', HEALTH_PROBE_INTERVAL_MS: '60000' })
    box!.behavior = { status: 500 }
    for (let i = 0; i < 2; i++) expect((await chat(gw, key)).headers.get('x-moe-fallback-reason')).toBe('local:status_500')
    const report = await hostReportOf(gw, name!)
    expect(report).toMatchObject({ breaker: 'open', last_error: 'status_500', available: false })

    const res = await chat(gw, key)
    expect(res.headers.get('x-moe-backend')).toBe('hosted')
    expect(res.headers.get('x-moe-fallback-reason')).toBe('local:connect_error')
    expect(chatRequests(box!)).toBe(2)

    box!.behavior = {}
    await waitFor(async () => (await hostReportOf(gw, name!)).breaker === 'half-open', 10_000, 'half-open')
    const trial = await chat(gw, key)
    expect(trial.headers.get('x-moe-backend')).toBe('local')
    expect((await hostReportOf(gw, name!)).breaker).toBe('closed')
  })

  it('sends to the other host when one refuses connections, and reports it in /admin/health', async () => {
    const { gw, hosts: [a, b], names, key, teamId } = await poolOf(2, { HEALTH_PROBE_INTERVAL_MS: '60000' })
    await a!.close()
    for (let i = 0; i < 3; i++) {
      const res = await chat(gw, key)
      expect(res.headers.get('x-moe-backend')).toBe('local')
      expect(res.headers.get('x-moe-fallback-reason')).toBeNull()
    }
    expect(chatRequests(b!)).toBe(3)
    const rows = await usageRowsOf(gw, teamId)
    expect(rows.map((r) => [r.backend, r.backendHost, r.attempts])).toEqual(Array(3).fill(['local', names[1], 1]))
    const down = await hostReportOf(gw, names[0]!)
    expect(down.last_error).toBe('connect_error')
  })

  it('opens a host whose /health keeps failing, without any traffic', async () => {
    const { gw, hosts: [box], names: [name] } = await poolOf(1, { HEALTH_PROBE_INTERVAL_MS: '100', BREAKER_FAILURES: '2' })
    box!.health = { status: 503, body: { status: 'failed', slots: { total: 1, busy: 0 }, queue: { depth: 0, max: 4 }, tokens_per_second: { prefill: null, decode: null } } }
    const report = await waitFor(async () => {
      const r = await hostReportOf(gw, name!)
      return r.breaker === 'open' ? r : undefined
    }, 10_000, 'the breaker to open on failed probes')
    expect(report).toMatchObject({ last_error: 'health_failed', health_status: 'failed' })
  })

  it('skips a host whose /health says loading without opening its breaker, and serves from it once ready', async () => {
    const { gw, hosts: [box], names: [name], key } = await poolOf(1, { BREAKER_FAILURES: '2', HEALTH_PROBE_INTERVAL_MS: '100' })
    box!.health = { status: 503, body: { status: 'loading', progress: 0.5, slots: { total: 1, busy: 0 }, queue: { depth: 0, max: 4 }, tokens_per_second: { prefill: null, decode: null } } }
    const probes = box!.healthProbes
    await waitFor(() => box!.healthProbes >= probes + 4, 10_000, 'several loading probes')
    const before = chatRequests(box!)
    const res = await chat(gw, key)
    await res.text()
    expect(res.headers.get('x-moe-backend')).toBe('hosted')
    expect(chatRequests(box!)).toBe(before) // skipped, not tried
    expect(await hostReportOf(gw, name!)).toMatchObject({ breaker: 'closed', available: false, health_status: 'loading' })
    box!.health = { status: 200, body: { status: 'ok', slots: { total: 1, busy: 0 }, queue: { depth: 0, max: 4 }, tokens_per_second: { prefill: null, decode: null } } }
    await waitFor(async () => (await hostReportOf(gw, name!)).available, 10_000, 'the host to be available once ready')
    const ready = await chat(gw, key)
    await ready.text()
    expect(ready.headers.get('x-moe-backend')).toBe('local')
  })

  it("shares an open breaker with another gateway process through the database", async () => {
    const { gw, hosts: [box], names: [name], key } = await poolOf(1, { BREAKER_FAILURES: '1', BREAKER_COOLDOWN_MS: '30000', HEALTH_PROBE_INTERVAL_MS: '60000' })
    const other = await startTestGateway({ env: { ...hosted(), NODE_HOSTS: JSON.stringify([{ name, url: box!.url, secret: SECRET }]), HEALTH_PROBE_INTERVAL_MS: '60000' } })
    gateways.push(other)
    const { key: otherKey } = await teamWithKey(other, { mode: 'local-first' })
    box!.behavior = { status: 502 }
    expect((await chat(gw, key)).headers.get('x-moe-fallback-reason')).toBe('local:status_502')
    box!.behavior = {}
    // The other process reads shared state at most every 2 s; within a few seconds it skips the box too.
    await waitFor(async () => {
      const res = await chat(other, otherKey)
      await res.text()
      return res.headers.get('x-moe-fallback-reason') === 'local:connect_error'
    }, 10_000, 'the other gateway to skip the open host')
    expect((await hostReportOf(other, name!)).breaker).toBe('open')
  })
})
