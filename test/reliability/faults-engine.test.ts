/**
 * The engine dies: node-host runs as its own OS process (the CLI, real llama.cpp, tiny model)
 * and is SIGKILLed with streams in flight and requests waiting in its queue, behind gateways in
 * `local-first` mode with the fake DeepSeek as the fallback. Defined outcomes:
 * - in flight (the client had tokens): an SSE error event `upstream_stream_broken` and [DONE];
 *   a 502 row with estimated usage;
 * - queued, nothing sent to the client yet (keep-alives held back by the gateway): falls back
 *   to hosted, `local:stream_broken`;
 * - queued so long that the gateway had passed keep-alives on (past half the first-byte time):
 *   committed, so the same SSE error as in flight, and a 502 row;
 * - after the kill: connection refused, falls back with `local:connect_error`.
 * Wall time: ~10-20 s (spawning node-host and loading the model dominate). Bound: 90 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { waitFor } from '../support/net.js'
import { spawnNodeHost, type NodeHostProcess } from '../support/node-host-process.js'
import { SseCollector } from '../support/sse-client.js'

const SECRET = 'faults-engine-node-host-secret'
const MODEL = 'tiny-moe'
// A hosted model name, so either backend may serve it (node-host answers any name with its one model).
const ANY_BACKEND_MODEL = 'deepseek-flash'
// Never completes, so random weights cannot end a long answer early.
const LONG_GRAMMAR = 'root ::= [a-z] root'
const PARALLEL = 3
const CLIENT_DEADLINE_MS = 30_000
// node-host's keep-alive interval: queued streams get their 200 and a comment after this.
const KEEP_ALIVE_MS = 200
// The "forwarding" gateway passes held keep-alives on after half of this.
const SHORT_FIRST_BYTE_TIMEOUT_MS = 1000

let deepseek: FakeDeepSeek
let engine: NodeHostProcess
let gwHold: RunningGateway
let gwForward: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  engine = await spawnNodeHost({ model: await ensureTestModel({ layout: 'deepseek2', size: 'tiny' }), secret: SECRET, modelName: MODEL, parallel: PARALLEL, maxQueue: 64, contextSize: 4096, keepAliveMs: KEEP_ALIVE_MS })
  const env = { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, NODE_HOST_URL: engine.url, NODE_HOST_SECRET: SECRET, LOCAL_MODELS: MODEL }
  gwHold = await startTestGateway({ env }) // default first-byte time: 60 s, so keep-alives are held 30 s
  gwForward = await startTestGateway({ env: { ...env, FIRST_BYTE_TIMEOUT_MS: String(SHORT_FIRST_BYTE_TIMEOUT_MS) } })
})

afterAll(async () => {
  await engine?.kill()
  await gwHold?.close()
  await gwForward?.close()
  await deepseek?.close()
})

function chat(gw: RunningGateway, key: string, stream: boolean): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: ANY_BACKEND_MODEL, stream, max_tokens: stream ? 100_000 : 16, grammar: LONG_GRAMMAR, messages: [{ role: 'user', content: 'go on forever' }] }),
    signal: AbortSignal.timeout(CLIENT_DEADLINE_MS),
  })
}

async function engineHealth(): Promise<{ slots: { busy: number }; queue: { depth: number } }> {
  return (await (await fetch(`${engine.url}/health`)).json()) as { slots: { busy: number }; queue: { depth: number } }
}

/** Sorted ids, for comparing the client's log with the rows. */
const sorted = (ids: Array<string | null>) => [...ids].sort()

describe('node-host is SIGKILLed with streams in flight and requests queued', () => {
  it('in flight: SSE error; queued and held: hosted; queued and forwarded: SSE error; one row each', async () => {
    const inFlight = await teamWithKey(gwHold, { mode: 'local-first' })
    const held = await teamWithKey(gwHold, { mode: 'local-first' })
    const forwarded = await teamWithKey(gwForward, { mode: 'local-first' })

    // Fill every slot with an endless stream and wait for tokens on each.
    const flying = await Promise.all(Array.from({ length: PARALLEL }, () => chat(gwHold, inFlight.key, true)))
    for (const res of flying) expect(res.headers.get('x-moe-backend')).toBe('local')
    const flyingSse = flying.map((res) => new SseCollector(res, CLIENT_DEADLINE_MS))
    await waitFor(() => flyingSse.every((c) => c.contentDeltas() >= 3), 20_000, 'tokens on every in-flight stream')

    // Queue behind them: first the held ones, then the forwarded ones (so the held ones have had keep-alives too).
    let heldAnswered = false
    const heldResponses = Array.from({ length: 3 }, () => chat(gwHold, held.key, true))
    void Promise.race(heldResponses).then(() => (heldAnswered = true), () => {})
    await waitFor(async () => (await engineHealth()).queue.depth === 3, 10_000, 'three held requests queued')
    const forwardedResponses = await Promise.all(Array.from({ length: 2 }, () => chat(gwForward, forwarded.key, true)))
    const forwardedSse = forwardedResponses.map((res) => new SseCollector(res, CLIENT_DEADLINE_MS))
    await waitFor(() => forwardedSse.every((c) => c.text.includes(': keep-alive')), 10_000, 'keep-alives passed on')
    expect(forwardedSse.every((c) => !c.text.includes('data: '))).toBe(true)
    // The held clients have seen nothing at all, not even headers.
    expect(heldAnswered).toBe(false)
    expect((await engineHealth()).queue.depth).toBe(5)

    await engine.kill('SIGKILL')

    // In flight: tokens, then a clean error event and [DONE], never a hang.
    for (const sse of await Promise.all(flyingSse.map((c) => c.finished))) {
      expect(sse).toMatchObject({ timedOut: false, sawDone: true, errorCode: 'upstream_stream_broken' })
      expect(sse.data.at(-1)).toMatchObject({ error: { code: 'upstream_stream_broken' } })
    }
    // Queued and held: the gateway had committed nothing, so hosted answers in full.
    const heldDone = await Promise.all(heldResponses)
    for (const res of heldDone) {
      expect(res.status).toBe(200)
      expect(res.headers.get('x-moe-backend')).toBe('hosted')
      expect(res.headers.get('x-moe-fallback-reason')).toBe('local:stream_broken')
    }
    for (const sse of await Promise.all(heldDone.map((res) => new SseCollector(res, CLIENT_DEADLINE_MS).finished))) {
      expect(sse).toMatchObject({ timedOut: false, sawDone: true, errorCode: undefined, comments: 0 })
      expect(sse.data.length).toBeGreaterThan(3)
    }
    // Queued and forwarded: committed to local by the keep-alives, so an error event, no token.
    for (const sse of await Promise.all(forwardedSse.map((c) => c.finished))) {
      expect(sse).toMatchObject({ timedOut: false, sawDone: true, errorCode: 'upstream_stream_broken' })
      expect(sse.data).toHaveLength(1)
    }

    const inFlightRows = await usageRowsOf(gwHold, inFlight.teamId)
    expect(sorted(inFlightRows.map((r) => r.id))).toEqual(sorted(flying.map((r) => r.headers.get('x-request-id'))))
    for (const row of inFlightRows) {
      expect(row).toMatchObject({ status: 502, errorCode: 'upstream_stream_broken', backend: 'local', fellBack: false, usageEstimated: true })
      expect(row.completionTokens).toBeGreaterThanOrEqual(3)
    }
    const heldRows = await usageRowsOf(gwHold, held.teamId)
    expect(sorted(heldRows.map((r) => r.id))).toEqual(sorted(heldDone.map((r) => r.headers.get('x-request-id'))))
    for (const row of heldRows) expect(row).toMatchObject({ status: 200, backend: 'hosted', fellBack: true, fallbackReason: 'local:stream_broken', attempts: 2, usageEstimated: false })
    const forwardedRows = await usageRowsOf(gwForward, forwarded.teamId)
    expect(sorted(forwardedRows.map((r) => r.id))).toEqual(sorted(forwardedResponses.map((r) => r.headers.get('x-request-id'))))
    for (const row of forwardedRows) expect(row).toMatchObject({ status: 502, errorCode: 'upstream_stream_broken', backend: 'local', usageEstimated: true })
  })

  it('after the kill, new requests fall back to hosted with local:connect_error', async () => {
    await engine.kill('SIGKILL') // already dead after the test above; this one stands on its own
    const { key, teamId } = await teamWithKey(gwHold, { mode: 'local-first' })
    const ids: Array<string | null> = []
    for (const stream of [true, false, true]) {
      const res = await chat(gwHold, key, stream)
      ids.push(res.headers.get('x-request-id'))
      expect(res.status).toBe(200)
      expect(res.headers.get('x-moe-backend')).toBe('hosted')
      expect(res.headers.get('x-moe-fallback-reason')).toBe('local:connect_error')
      if (stream) expect(await new SseCollector(res, CLIENT_DEADLINE_MS).finished).toMatchObject({ timedOut: false, sawDone: true, errorCode: undefined })
      else expect(((await res.json()) as { choices: unknown[] }).choices).toHaveLength(1)
    }
    const rows = await usageRowsOf(gwHold, teamId)
    expect(sorted(rows.map((r) => r.id))).toEqual(sorted(ids))
    for (const row of rows) expect(row).toMatchObject({ status: 200, backend: 'hosted', fellBack: true, fallbackReason: 'local:connect_error', attempts: 2 })
  })
})
