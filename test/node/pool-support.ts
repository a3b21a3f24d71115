import type { AdminHealthBody } from '../../src/admin/health.js'
import type { NodeHostReport } from '../../src/backends/pool-report.js'
import type { RunningGateway } from '../../src/node.js'
import { afterAll, beforeAll } from 'vitest'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import type { FakeNodeHost } from '../fakes/node-host.js'
import { adminCall, uniqueName } from '../support/gateway.js'

/** A file's fake DeepSeek (started before its tests) and the fake node-hosts and gateways it starts, closed after. */
export function usePoolFixture() {
  let deepseek: FakeDeepSeek | undefined
  const fakes: FakeNodeHost[] = []
  const gateways: RunningGateway[] = []
  beforeAll(async () => {
    deepseek = await startFakeDeepSeek()
  })
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()))
    await Promise.all(fakes.map((f) => f.close()))
    await deepseek?.close()
  })
  const hostedEnv = () => ({ DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek!.url })
  return { fakes, gateways, hostedEnv }
}

/** NODE_HOSTS for the given hosts; names are unique per call (the shared sqld keeps backend_state). */
export function nodeHostsEnv(hosts: Array<{ url: string; secret: string; models?: string[] }>): { names: string[]; value: string } {
  const named = hosts.map((h) => ({ name: uniqueName('box'), ...h }))
  return { names: named.map((h) => h.name), value: JSON.stringify(named) }
}

export async function chat(gw: RunningGateway, key: string, body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'pool me' }], max_tokens: 4, ...body }),
  })
}

/** Sends one chat request as `key`; answers the backend that served it (x-moe-backend). */
export async function servedBy(gw: RunningGateway, key: string): Promise<string | null> {
  const res = await chat(gw, key)
  await res.text()
  return res.headers.get('x-moe-backend')
}

export async function adminHealth(gw: RunningGateway): Promise<AdminHealthBody> {
  const res = await adminCall(gw, 'GET', '/admin/health')
  if (res.status !== 200) throw new Error(`/admin/health: ${res.status} ${await res.text()}`)
  return (await res.json()) as AdminHealthBody
}

export async function hostReportOf(gw: RunningGateway, name: string): Promise<NodeHostReport> {
  const host = (await adminHealth(gw)).local.hosts.find((h) => h.name === name)
  if (!host) throw new Error(`no host ${name} in /admin/health`)
  return host
}
