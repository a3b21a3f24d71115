import { describe, expect, it } from 'vitest'
import type { NodeHostReport } from '../../src/backends/pool-report.js'
import type { RunningGateway } from '../../src/node.js'
import { probeHealth, type ProbeFetch } from '../../src/routing/health-probe.js'
import { startFakeNodeHost, type FakeNodeHost } from '../fakes/node-host.js'
import { teamWithRoles } from '../support/admin-as.js'
import { ADMIN_KEY, startTestGateway } from '../support/gateway.js'
import { waitFor } from '../support/net.js'
import { signedIn } from './dashboard-support.js'
import { hostReportOf, nodeHostsEnv, usePoolFixture } from './pool-support.js'

// A node-host whose model failed to load answers /health 503 with status 'failed' and its reason
// (node-host/health.ts); the gateway carries that reason to /admin/health and the dashboard.
const SECRET = 'node-host-secret-for-health-error'
const LOAD_ERROR = 'model moe-demo aborted llama.cpp (cpu variant sapphirerapids); remedy: set LLAMA_CPU_VARIANT=haswell'
const HOSTILE_ERROR = `model <b>moe</b> aborted: <script>alert("x")</script> & 'quoted'`
const HOSTILE_ESCAPED = 'model &lt;b&gt;moe&lt;/b&gt; aborted: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;'

const { fakes, gateways, hostedEnv } = usePoolFixture()

async function oneHost(env: Record<string, string> = {}) {
  const box = await startFakeNodeHost({ secret: SECRET })
  fakes.push(box)
  const { names, value } = nodeHostsEnv([{ url: box.url, secret: SECRET }])
  const gw = await startTestGateway({ env: { ...hostedEnv(), NODE_HOSTS: value, HEALTH_PROBE_INTERVAL_MS: '100', ...env } })
  gateways.push(gw)
  return { gw, box, name: names[0]! }
}

/** node-host's answer when its model failed to load; `fields` may override error and cpu_variant. */
function failedHealth(error: unknown, fields: Record<string, unknown> = { cpu_variant: 'haswell' }): FakeNodeHost['health'] {
  const body = { status: 'failed', mode: 'llama', model: 'moe-demo', error, ...fields, slots: { total: 1, busy: 0 }, queue: { depth: 0, max: 4 }, tokens_per_second: { prefill: null, decode: null } }
  return { status: 503, body }
}

/** The report once a probe has seen `check` hold. */
const reportWhen = (gw: RunningGateway, name: string, check: (r: NodeHostReport) => boolean, what: string) =>
  waitFor(async () => {
    const r = await hostReportOf(gw, name)
    return check(r) ? r : undefined
  }, 10_000, what)

/** The <tr> of a dashboard table (by data-testid) whose data-value is `row`. */
function rowHtml(page: string, tableTestid: string, row: string): string {
  const table = new RegExp(`<table data-testid="${tableTestid}">([\\s\\S]*?)</table>`).exec(page)?.[1] ?? ''
  return table.split('<tr data-value="').find((part) => part.startsWith(`${row}"`))?.split('</tr>')[0] ?? ''
}

describe('reading node-host /health: the reason it cannot serve', () => {
  const answering = (status: number, body: unknown): ProbeFetch => async () => ({ status, json: async () => body })
  const probe = async (body: unknown) => {
    const result = await probeHealth(answering(503, body), 'http://box', 1000, () => 1)
    return result.health
  }

  it('reads error and cpu_variant from a failed /health, and still calls the probe a failure', async () => {
    const result = await probeHealth(answering(503, failedHealth(LOAD_ERROR).body), 'http://box', 1000, () => 1)
    expect(result).toMatchObject({ ok: false, error: 'health_failed', health: { status: 'failed', error: LOAD_ERROR, cpuVariant: 'haswell' } })
  })

  it('cuts error to 300 characters and cpu_variant to 40, on one line', async () => {
    const health = await probe(failedHealth(`first line\nsecond ${'x'.repeat(1000)}`, { cpu_variant: 'v'.repeat(100) }).body)
    expect(health?.error).toHaveLength(300)
    expect(health?.error?.startsWith('first line second xxx')).toBe(true)
    expect(health?.cpuVariant).toBe('v'.repeat(40))
  })

  it('does not leave half a surrogate pair where it cuts', async () => {
    const health = await probe(failedHealth(`${'x'.repeat(299)}😀 and more`).body)
    expect(health?.error).toBe('x'.repeat(299))
  })

  it('leaves them out when missing, empty or not strings', async () => {
    for (const [error, fields] of [[undefined, {}], ['', { cpu_variant: ' ' }], [42, { cpu_variant: { name: 'zen4' } }], [['x'], { cpu_variant: null }]] as const) {
      const health = await probe(failedHealth(error, fields).body)
      expect(health).toMatchObject({ status: 'failed' })
      expect(health?.error).toBeUndefined()
      expect(health?.cpuVariant).toBeUndefined()
    }
  })
})

describe('GET /admin/health and the dashboard: a node-host that cannot serve', () => {
  it('shows health_error and cpu_variant, with the breaker opening on failed probes as before', async () => {
    const { gw, box, name } = await oneHost({ BREAKER_FAILURES: '2', BREAKER_COOLDOWN_MS: '60000' })
    box.health = failedHealth(LOAD_ERROR)
    const report = await reportWhen(gw, name, (r) => r.breaker === 'open', 'the breaker to open on failed probes')
    expect(report).toMatchObject({ available: false, health_status: 'failed', last_error: 'health_failed', health_error: LOAD_ERROR, cpu_variant: 'haswell' })
  })

  it('shows null for both while the host is healthy, and cpu_variant when an ok host sends it', async () => {
    const { gw, box, name } = await oneHost()
    const healthy = await reportWhen(gw, name, (r) => r.health_status === 'ok', 'a probe result')
    expect(healthy).toMatchObject({ available: true, breaker: 'closed', health_error: null, cpu_variant: null })

    box.health = { status: 200, body: { ...box.health.body, cpu_variant: 'zen4' } }
    const withVariant = await reportWhen(gw, name, (r) => r.cpu_variant === 'zen4', 'the cpu variant')
    expect(withVariant).toMatchObject({ available: true, health_status: 'ok', health_error: null })
  })

  it('keeps last_error at health_connect_error when the node-host process is gone', async () => {
    const { gw, box, name } = await oneHost({ BREAKER_FAILURES: '2' })
    box.health = failedHealth(LOAD_ERROR)
    await reportWhen(gw, name, (r) => r.health_error === LOAD_ERROR, 'the failed probe')
    await box.close()
    const gone = await reportWhen(gw, name, (r) => r.last_error === 'health_connect_error', 'a probe to find the host gone')
    expect(gone).toMatchObject({ available: false, breaker: 'open' })
  })

  it('shows the host as down with its escaped reason on the admin page and the team page, even before the breaker opens', async () => {
    const { gw, box, name } = await oneHost({ BREAKER_FAILURES: '100000' })
    box.health = failedHealth(HOSTILE_ERROR)
    const report = await reportWhen(gw, name, (r) => r.health_error === HOSTILE_ERROR, 'the failed probe')
    // Routing still admits the host until enough probes fail; the dashboard says what node-host said.
    expect(report).toMatchObject({ available: true, breaker: 'closed', health_status: 'failed' })

    const admin = await (await signedIn(gw, ADMIN_KEY)).get('/dashboard/admin')
    expect(admin.res.status).toBe(200)
    const t = await teamWithRoles(gw, 'health-error')
    const team = await (await signedIn(gw, t.teamAdmin.key)).get('/dashboard/team')
    expect(team.res.status).toBe(200)

    for (const row of [rowHtml(admin.body, 'node-hosts', name), rowHtml(admin.body, 'backend-health', name), rowHtml(team.body, 'backend-health', name)]) {
      expect(row).toContain('<span class="badge danger">down: failed</span>')
      expect(row).toContain(`<div class="muted small" data-testid="health-error">${HOSTILE_ESCAPED}</div>`)
    }
    for (const page of [admin.body, team.body]) {
      expect(page).not.toContain('<script>alert(')
      expect(page).not.toContain('<b>moe</b>')
    }
  })

  it('shows a healthy host as up with no reason', async () => {
    const { gw, name } = await oneHost()
    await reportWhen(gw, name, (r) => r.health_status === 'ok', 'a probe result')
    const admin = await (await signedIn(gw, ADMIN_KEY)).get('/dashboard/admin')
    const row = rowHtml(admin.body, 'backend-health', name)
    expect(row).toContain('<span class="badge ok">up</span>')
    expect(row).not.toContain('health-error')
  })
})
