/**
 * The pool over two real node-hosts (llama.cpp on a tiny generated MoE model, one slot each):
 * load-aware spreading, a host going away mid-traffic and coming back on the same port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startTestGateway, teamWithKey } from '../support/gateway.js'
import { waitFor } from '../support/net.js'
import { adminHealth, chat, nodeHostsEnv } from './pool-support.js'

const SECRET = 'gateway-to-pool-node-host-secret'
// Never completes, so random weights cannot end a long answer early.
const LONG_GRAMMAR = 'root ::= [a-z] root'
let model: string
let hosts: NodeHost[] = []
let names: string[] = []
let deepseek: FakeDeepSeek
let gw: RunningGateway
let key: string

const startHost = (port = 0) => startNodeHost({ model, modelName: 'tiny-moe', secret: SECRET, threads: 1, parallel: 1, contextSize: 512, maxQueue: 4, port })

beforeAll(async () => {
  model = await ensureTestModel({ layout: 'llama-moe', size: 'tiny' })
  hosts = [await startHost(), await startHost()]
  deepseek = await startFakeDeepSeek()
  const pool = nodeHostsEnv(hosts.map((h) => ({ url: h.url, secret: SECRET })))
  names = pool.names
  gw = await startTestGateway({
    env: { NODE_HOSTS: pool.value, DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, HEALTH_PROBE_INTERVAL_MS: '200', BREAKER_FAILURES: '1', BREAKER_COOLDOWN_MS: '1000' },
  })
  key = (await teamWithKey(gw, { mode: 'local-first' })).key
})

afterAll(async () => {
  await gw?.close()
  await Promise.all(hosts.map((h) => h.close()))
  await deepseek?.close()
})

async function reportOf(name: string) {
  const host = (await adminHealth(gw)).local.hosts.find((h) => h.name === name)
  if (!host) throw new Error(`no ${name}`)
  return host
}

describe('node-host pool over real node-hosts', () => {
  it('sends the next request to the host that is not busy with a long one', async () => {
    const abort = new AbortController()
    const long = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-moe', stream: true, max_tokens: 200, grammar: LONG_GRAMMAR, messages: [{ role: 'user', content: 'go on' }] }),
      signal: abort.signal,
    })
    expect(long.headers.get('x-moe-backend')).toBe('local')
    const reader = long.body!.getReader()
    await reader.read() // the first event: it holds a slot now
    const before = await adminHealth(gw)
    const busy = before.local.hosts.find((h) => h.in_flight === 1)
    const idle = before.local.hosts.find((h) => h.in_flight === 0)
    expect(busy && idle).toBeTruthy()

    for (let i = 0; i < 2; i++) {
      const res = await chat(gw, key, { model: 'tiny-moe', max_tokens: 3 })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-moe-backend')).toBe('local')
    }
    expect((await reportOf(idle!.name)).requests).toBe(idle!.requests + 2)
    expect((await reportOf(busy!.name)).requests).toBe(busy!.requests)
    abort.abort()
    await reader.cancel().catch(() => {})
    await waitFor(async () => (await adminHealth(gw)).local.hosts.every((h) => h.in_flight === 0 && h.slots?.busy === 0), 15_000, 'both hosts idle')
  })

  // A model both backends serve (node-host answers any name), so local-first can fall back.
  it('moves traffic off a host that went away, falls back to hosted when both are gone, and returns when one comes back', { timeout: 90_000 }, async () => {
    const [a, b] = hosts
    const portA = Number(new URL(a!.url).port)
    await a!.close()
    for (let i = 0; i < 2; i++) {
      const res = await chat(gw, key)
      expect(res.headers.get('x-moe-backend')).toBe('local')
      expect(res.headers.get('x-moe-fallback-reason')).toBeNull()
    }
    expect((await reportOf(names[0]!)).breaker).not.toBe('closed')

    await b!.close()
    const res = await chat(gw, key)
    expect(res.headers.get('x-moe-backend')).toBe('hosted')
    expect(res.headers.get('x-moe-fallback-reason')).toBe('local:connect_error')
    await res.text()

    hosts[0] = await startHost(portA)
    // Cool-down over, probes see it up; the next request is the half-open trial, and it closes the breaker.
    await waitFor(async () => (await reportOf(names[0]!)).health_status === 'ok' && (await reportOf(names[0]!)).breaker !== 'open', 20_000, 'box A back and past its cool-down')
    const back = await waitFor(async () => {
      const r = await chat(gw, key)
      await r.text()
      return r.headers.get('x-moe-backend') === 'local' ? r : undefined
    }, 20_000, 'traffic back on box A')
    expect(back.status).toBe(200)
    expect((await reportOf(names[0]!)).breaker).toBe('closed')
  })
})
