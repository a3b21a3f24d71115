/**
 * Upstream misbehaves: the fake DeepSeek answers 429/500/503, sends keep-alives for seconds
 * before its first token, closes mid-stream, sends a malformed chunk or no usage. Each case
 * states the client's outcome and the single usage row it leaves. Teams in `hosted` mode have
 * nothing to fall back to; `hosted-first` teams fall back to a real node-host (tiny model).
 * Wall time: ~20-30 s (model load, 5 s of keep-alives, a 2 s timeout; the rest is sub-second). Bound: 60 s.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeBehavior, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { SseCollector } from '../support/sse-client.js'

const SECRET = 'faults-upstream-node-host-secret'
// Short, so the keep-alive cases show both sides of it: held (< 1 s) and passed through (> 1 s).
const FIRST_BYTE_TIMEOUT_MS = 2000
const CLIENT_DEADLINE_MS = 20_000

let deepseek: FakeDeepSeek
let host: NodeHost
let gw: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  host = await startNodeHost({ model: await ensureTestModel({ layout: 'deepseek2', size: 'tiny' }), modelName: 'tiny-moe', secret: SECRET, threads: 1, parallel: 1, contextSize: 512 })
  await host.ready
  gw = await startTestGateway({
    env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, NODE_HOST_URL: host.url, NODE_HOST_SECRET: SECRET, LOCAL_MODELS: 'tiny-moe', FIRST_BYTE_TIMEOUT_MS: String(FIRST_BYTE_TIMEOUT_MS) },
  })
})

afterAll(async () => {
  await gw?.close()
  await host?.close()
  await deepseek?.close()
})

async function post(key: string, behavior: FakeBehavior, stream: boolean): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'deepseek-flash', stream, ...(stream ? { stream_options: { include_usage: true } } : {}), max_tokens: 8, messages: [{ role: 'user', content: 'misbehave' }], fake_behavior: behavior }),
    signal: AbortSignal.timeout(CLIENT_DEADLINE_MS),
  })
}

/** The one usage row of a team that sent one request, checked against the client's request id. */
async function onlyRow(teamId: string, requestId: string | null) {
  const rows = await usageRowsOf(gw, teamId)
  expect(rows.map((r) => r.id)).toEqual([requestId])
  return rows[0]!
}

interface ErrorCase {
  name: string
  behavior: FakeBehavior
  status: number
  code: string
  retryAfter?: string
}

// Hosted only: DeepSeek's own status, body and Retry-After reach the client; the row says the same.
const refusedWithoutFallback: ErrorCase[] = [
  { name: '429 with Retry-After', behavior: { status: 429, retryAfterSeconds: 7 }, status: 429, code: 'rate_limit_exceeded', retryAfter: '7' },
  { name: '500', behavior: { status: 500 }, status: 500, code: 'internal_server_error' },
  { name: '503', behavior: { status: 503 }, status: 503, code: 'server_overloaded' },
  // Headers and keep-alives, then the socket closes before a token: nothing was committed.
  { name: 'closed after keep-alives, before the first token', behavior: { keepAliveCount: 3, keepAliveIntervalMs: 50, closeAfterChunks: 0 }, status: 502, code: 'upstream_stream_broken' },
]

describe('hosted misbehaves, nothing to fall back to', () => {
  it.each(refusedWithoutFallback)('$name: the client gets $status $code, one row says so', async ({ behavior, status, code, retryAfter }) => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: CLIENT_DEADLINE_MS })
    const stream = behavior.keepAliveCount !== undefined
    const err = await client.chat.completions
      .create({ model: 'deepseek-flash', stream, max_tokens: 8, messages: [{ role: 'user', content: 'misbehave' }], ...{ fake_behavior: behavior } })
      .then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.APIError)
    const apiError = err as InstanceType<typeof OpenAI.APIError>
    expect(apiError.status).toBe(status)
    expect(apiError.code).toBe(code)
    expect(apiError.headers?.get('retry-after') ?? undefined).toBe(retryAfter)
    const row = await onlyRow(teamId, apiError.headers?.get('x-request-id') ?? null)
    expect(row).toMatchObject({ status, errorCode: code, backend: 'hosted', fellBack: false, attempts: 1 })
  })
})

const fallingBack: Array<{ name: string; behavior: FakeBehavior; reason: string }> = [
  { name: '429', behavior: { status: 429, retryAfterSeconds: 7 }, reason: 'hosted:status_429' },
  { name: '500', behavior: { status: 500 }, reason: 'hosted:status_500' },
  { name: '503', behavior: { status: 503 }, reason: 'hosted:status_503' },
  { name: 'closed after keep-alives, before the first token', behavior: { keepAliveCount: 3, keepAliveIntervalMs: 50, closeAfterChunks: 0 }, reason: 'hosted:stream_broken' },
]

describe('hosted misbehaves before its first token, node-host takes over', () => {
  it.each(fallingBack)('$name: served by local with fallback reason $reason', async ({ behavior, reason }) => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted-first' })
    const res = await post(key, behavior, true)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-moe-backend')).toBe('local')
    expect(res.headers.get('x-moe-fallback-reason')).toBe(reason)
    const sse = await new SseCollector(res, CLIENT_DEADLINE_MS).finished
    expect(sse).toMatchObject({ timedOut: false, sawDone: true, errorCode: undefined, comments: 0 })
    const row = await onlyRow(teamId, res.headers.get('x-request-id'))
    expect(row).toMatchObject({ status: 200, backend: 'local', fellBack: true, fallbackReason: reason, attempts: 2, usageEstimated: false, costNanoUsd: 0 })
  })
})

describe('hosted keeps the stream alive with comments before its first token', () => {
  it('holds a short keep-alive phase back, then passes comments and answer through together', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const res = await post(key, { keepAliveCount: 5, keepAliveIntervalMs: 100 }, true)
    expect(res.status).toBe(200)
    const collector = new SseCollector(res, CLIENT_DEADLINE_MS)
    const sse = await collector.finished
    // Held until the first event (0.4 s < half the first-byte time), so the client's first bytes include it.
    expect(collector.firstChunk).toMatch(/^: keep-alive\n\n(.|\n)*data: /)
    expect(sse.comments).toBe(5)
    expect(sse).toMatchObject({ timedOut: false, sawDone: true, errorCode: undefined })
    const row = await onlyRow(teamId, res.headers.get('x-request-id'))
    expect(row).toMatchObject({ status: 200, backend: 'hosted', usageEstimated: false, fellBack: false })
  })

  it('survives 50 comments x 100 ms (longer than the first-byte timeout): they count as liveness and reach the client', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted-first' })
    const startedAt = Date.now()
    const res = await post(key, { keepAliveCount: 50, keepAliveIntervalMs: 100 }, true)
    // Committed to hosted once the hold ran out: headers well before the first token (~5 s).
    expect(Date.now() - startedAt).toBeLessThan(4000)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-moe-backend')).toBe('hosted')
    expect(res.headers.get('x-moe-fallback-reason')).toBeNull()
    const collector = new SseCollector(res, CLIENT_DEADLINE_MS)
    const sse = await collector.finished
    expect(collector.firstChunk).toMatch(/^: keep-alive\n\n/)
    expect(collector.firstChunk).not.toContain('data: ')
    expect(sse.comments).toBe(50)
    expect(sse).toMatchObject({ timedOut: false, sawDone: true, errorCode: undefined })
    const row = await onlyRow(teamId, res.headers.get('x-request-id'))
    expect(row).toMatchObject({ status: 200, backend: 'hosted', fellBack: false, usageEstimated: false })
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(4900)
  })

  it('with no keep-alive and no first byte in time, the client gets 504 upstream_timeout', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const res = await post(key, { hangBeforeFirstToken: true }, true)
    expect(res.status).toBe(504)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout')
    const row = await onlyRow(teamId, res.headers.get('x-request-id'))
    expect(row).toMatchObject({ status: 504, errorCode: 'upstream_timeout', backend: 'hosted' })
  })
})

describe('hosted breaks its stream after the first token', () => {
  it('connection closed mid-stream: an SSE error event and [DONE], a 502 row with estimated usage', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted-first' })
    const res = await post(key, { closeAfterChunks: 3, tokenDelayMs: 20 }, true)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-moe-backend')).toBe('hosted')
    const sse = await new SseCollector(res, CLIENT_DEADLINE_MS).finished
    expect(sse).toMatchObject({ timedOut: false, sawDone: true, errorCode: 'upstream_stream_broken' })
    // Up to three chunks (the fake destroys its socket right after the third write, which may drop it), then the error event.
    expect(sse.data.length).toBeGreaterThanOrEqual(2)
    expect(sse.data.length).toBeLessThanOrEqual(4)
    expect(sse.data.at(-1)).toMatchObject({ error: { code: 'upstream_stream_broken' } })
    const row = await onlyRow(teamId, res.headers.get('x-request-id'))
    expect(row).toMatchObject({ status: 502, errorCode: 'upstream_stream_broken', backend: 'hosted', fellBack: false, usageEstimated: true })
    expect(row.completionTokens).toBeGreaterThan(0)
  })

  it('malformed JSON in a chunk: passed through untouched, usage still from the final usage chunk', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const res = await post(key, { malformedChunkAt: 2 }, true)
    expect(res.status).toBe(200)
    const sse = await new SseCollector(res, CLIENT_DEADLINE_MS).finished
    expect(sse).toMatchObject({ timedOut: false, sawDone: true, errorCode: undefined })
    const broken = sse.data.filter((d): d is string => typeof d === 'string')
    expect(broken).toHaveLength(1)
    expect(sse.data.filter((d) => typeof d === 'object')).toHaveLength(sse.data.length - 1) // the rest parse
    expect(broken[0]).toMatch(/^\{"id":/) // the fake's first half of the chunk, as sent
    const sent = deepseek.requests.find((r) => (r.body as { fake_behavior?: FakeBehavior }).fake_behavior?.malformedChunkAt === 2)
    const row = await onlyRow(teamId, res.headers.get('x-request-id'))
    expect(row).toMatchObject({ status: 200, usageEstimated: false, promptTokens: sent!.usage!.prompt_tokens, completionTokens: sent!.usage!.completion_tokens })
  })

  it.each([true, false])('omitted usage (stream %s): the answer arrives, the row is estimated', async (stream) => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const res = await post(key, { omitUsage: true }, stream)
    expect(res.status).toBe(200)
    if (stream) expect(await new SseCollector(res, CLIENT_DEADLINE_MS).finished).toMatchObject({ timedOut: false, sawDone: true, errorCode: undefined })
    else expect(((await res.json()) as { usage?: unknown }).usage).toBeUndefined()
    const row = await onlyRow(teamId, res.headers.get('x-request-id'))
    expect(row).toMatchObject({ status: 200, usageEstimated: true, backend: 'hosted' })
    expect(row.promptTokens).toBeGreaterThan(0)
    expect(row.completionTokens).toBeGreaterThan(0)
  })
})
