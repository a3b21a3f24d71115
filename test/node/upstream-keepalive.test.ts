import OpenAI from 'openai'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { undiciUpstream } from '../../src/node/undici-upstream.js'
import { adminCall, startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { startStaleSocketUpstream, type StaleSocketAction, type StaleSocketUpstream } from '../fakes/stale-socket-upstream.js'

// Burst after burst on loopback: every burst after the first reuses the sockets of the one before,
// and the upstream drops each reused socket as the request arrives, alternating RST and FIN.
const BURSTS = 6
const STREAMS_PER_BURST = 8
const dropReused = ({ connection, onConnection }: { connection: number; onConnection: number }): StaleSocketAction => (onConnection === 0 ? 'answer' : connection % 2 === 0 ? 'reset' : 'close')

const upstreams: StaleSocketUpstream[] = []
async function upstream(policy: Parameters<typeof startStaleSocketUpstream>[0]['policy']): Promise<StaleSocketUpstream> {
  const up = await startStaleSocketUpstream({ policy })
  upstreams.push(up)
  return up
}

afterAll(async () => {
  for (const up of upstreams) await up.close()
})

/** undici puts a socket back in its pool just after the body ends: the next request reuses it only after that. */
const socketBackInPool = () => new Promise<void>((resolve) => setImmediate(resolve))

const CHAT_BODY = JSON.stringify({ model: 'deepseek-flash', stream: true, messages: [{ role: 'user', content: 'hi' }] })

/**
 * Runs `send` BURSTS times, STREAMS_PER_BURST at once, each burst after the last one finished.
 * `send` resolves true for a stream that arrived whole; returns how many did and the errors seen.
 */
async function bursts(send: (i: number) => Promise<boolean>): Promise<{ ok: number; errors: string[] }> {
  let ok = 0
  const errors: string[] = []
  for (let b = 0; b < BURSTS; b++) {
    const outcomes = await Promise.allSettled(Array.from({ length: STREAMS_PER_BURST }, (_, i) => send(i)))
    for (const o of outcomes) {
      if (o.status === 'fulfilled' && o.value) ok++
      else errors.push(o.status === 'rejected' ? String((o.reason as { code?: unknown }).code ?? o.reason) : 'incomplete')
    }
  }
  return { ok, errors }
}

const whole = (sse: string) => sse.includes('data: [DONE]')

describe('an upstream that closes keep-alive sockets as they are reused', () => {
  it('fails requests through the old client settings (undici Agent, 30 s keep-alive, no retry): the race is real', async () => {
    const up = await upstream(dropReused)
    const oldSettings = new Agent({ keepAliveTimeout: 30_000 })
    const { ok, errors } = await bursts(async () => {
      const res = await request(`${up.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: CHAT_BODY, dispatcher: oldSettings })
      return whole(await res.body.text())
    })
    await oldSettings.close()
    expect(errors.length).toBeGreaterThan(0)
    expect(new Set(errors)).toEqual(new Set(['ECONNRESET', 'UND_ERR_SOCKET']))
    expect(ok + errors.length).toBe(BURSTS * STREAMS_PER_BURST)
  })

  it('loses no request through undiciUpstream(): each one dropped on a reused socket is sent again on a fresh connection', async () => {
    const up = await upstream(dropReused)
    const fetchUpstream = undiciUpstream()
    const { ok, errors } = await bursts(async () => {
      const res = await fetchUpstream(`${up.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: CHAT_BODY, signal: new AbortController().signal })
      return whole(await res.text())
    })
    expect(errors).toEqual([])
    expect(ok).toBe(BURSTS * STREAMS_PER_BURST)
    expect(up.dropped.reset).toBeGreaterThan(0)
    expect(up.dropped.close).toBeGreaterThan(0)
    // Every request was answered exactly once: a retry only ever replaced one the upstream dropped.
    expect(up.answered).toBe(BURSTS * STREAMS_PER_BURST)
  })

  it('retries at most once, and not a request that failed on a fresh connection', async () => {
    // Connection 0 answers its first request and drops the next; every later connection is dropped at once.
    const up = await upstream(({ connection, onConnection }) => (connection === 0 && onConnection === 0 ? 'answer' : 'reset'))
    const fetchUpstream = undiciUpstream()
    const send = () => fetchUpstream(`${up.url}/chat/completions`, { method: 'POST', headers: {}, body: CHAT_BODY, signal: new AbortController().signal })
    await (await send()).text()
    await socketBackInPool()
    await expect(send()).rejects.toMatchObject({ code: 'ECONNRESET' })
    // The reused socket, then one fresh connection: two tries, not three.
    expect(up.dropped.reset).toBe(2)
    expect(up.connections).toBe(2)
    await expect(send()).rejects.toMatchObject({ code: 'ECONNRESET' })
    expect(up.dropped.reset).toBe(3)
  })

  it('does not retry once a response byte has arrived', async () => {
    const up = await upstream(({ onConnection }) => (onConnection === 0 ? 'answer' : 'partial'))
    const fetchUpstream = undiciUpstream()
    const send = () => fetchUpstream(`${up.url}/chat/completions`, { method: 'POST', headers: {}, body: CHAT_BODY, signal: new AbortController().signal })
    await (await send()).text()
    await socketBackInPool()
    await expect(send()).rejects.toMatchObject({ code: 'ECONNRESET' })
    expect(up.dropped.partial).toBe(1)
    expect(up.connections).toBe(1)
  })
})

describe('the gateway in front of upstreams that drop reused sockets', () => {
  const SECRET = 'node-host-secret-for-tests'
  let gw: RunningGateway
  let local: StaleSocketUpstream
  let hosted: StaleSocketUpstream

  beforeAll(async () => {
    local = await upstream(dropReused)
    hosted = await upstream(dropReused)
    gw = await startTestGateway({ env: { NODE_HOST_URL: local.url, NODE_HOST_SECRET: SECRET, DEEPSEEK_API_KEY: 'sk-stale', DEEPSEEK_BASE_URL: hosted.url } })
  })

  afterAll(async () => {
    await gw?.close()
  })

  it('streams every request of every burst, with no fallback and nothing against the node-host or hosted', async () => {
    const localTeam = await teamWithKey(gw, { mode: 'local-first' })
    const hostedTeam = await teamWithKey(gw, { mode: 'hosted' })
    const served: string[] = []
    const { ok, errors } = await bursts(async (i) => {
      const team = i % 2 === 0 ? localTeam : hostedTeam
      const client = new OpenAI({ apiKey: team.key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
      const { data: stream, response } = await client.chat.completions.create({ model: 'deepseek-flash', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse()
      served.push(`${team === localTeam ? 'local-first' : 'hosted'}->${response.headers.get('x-moe-backend')}${response.headers.get('x-moe-fallback-reason') ? ' fell back' : ''}`)
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      return text === 'Fresh socket answer.'
    })
    expect(errors).toEqual([])
    expect(ok).toBe(BURSTS * STREAMS_PER_BURST)
    expect(new Set(served)).toEqual(new Set(['local-first->local', 'hosted->hosted']))
    expect(local.dropped.reset + local.dropped.close).toBeGreaterThan(0)
    expect(hosted.dropped.reset + hosted.dropped.close).toBeGreaterThan(0)

    for (const team of [localTeam, hostedTeam]) {
      const rows = await usageRowsOf(gw, team.teamId)
      expect(rows).toHaveLength(served.filter((s) => s.startsWith(team === localTeam ? 'local-first' : 'hosted')).length)
      expect(rows.every((r) => r.status === 200 && !r.fellBack && r.attempts === 1 && r.errorCode === null)).toBe(true)
    }
    const health = (await (await adminCall(gw, 'GET', '/admin/health')).json()) as { local: { hosts: Array<{ breaker: string; last_error: string | null }> }; hosted: { error_rate: number | null; last_error: string | null } }
    expect(health.local.hosts).toEqual([expect.objectContaining({ breaker: 'closed', last_error: null })])
    expect(health.hosted).toMatchObject({ error_rate: 0, last_error: null })
  })
})
