import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startFakeNodeHost, type FakeNodeHost } from '../fakes/node-host.js'
import { freePort } from '../support/net.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'

const SECRET = 'node-host-secret-for-tests'
let deepseek: FakeDeepSeek
let local: FakeNodeHost
let gw: RunningGateway
let gwDeadLocal: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  local = await startFakeNodeHost({ secret: SECRET })
  const hosted = { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url }
  gw = await startTestGateway({ env: { ...hosted, NODE_HOST_URL: local.url, NODE_HOST_SECRET: SECRET, FIRST_BYTE_TIMEOUT_MS: '300' } })
  // A node-host URL where nothing listens: connection refused.
  gwDeadLocal = await startTestGateway({ env: { ...hosted, NODE_HOST_URL: `http://127.0.0.1:${await freePort()}`, NODE_HOST_SECRET: SECRET } })
})

afterAll(async () => {
  await gw?.close()
  await gwDeadLocal?.close()
  await deepseek?.close()
  await local?.close()
})

async function chat(g: RunningGateway, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'route me' }], ...body }),
  })
}

async function readSse(res: Response): Promise<{ text: string; events: unknown[] }> {
  const text = await res.text()
  const events = text.split('\n\n').filter((e) => e.startsWith('data: ') && !e.includes('[DONE]')).map((e) => JSON.parse(e.slice(6)) as unknown)
  return { text, events }
}

describe('fallback between local and hosted', () => {
  it('falls back to hosted when node-host answers 503 before the first byte', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local-first' })
    const res = await chat(gw, key, { fake_local: { status: 503 } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-moe-backend')).toBe('hosted')
    expect(res.headers.get('x-moe-fallback-reason')).toBe('local:status_503')
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'hosted', fellBack: true, fallbackReason: 'local:status_503', attempts: 2, status: 200 })
    expect(row!.costNanoUsd).toBeGreaterThan(0)
  })

  it('falls back when node-host cannot be reached at all', async () => {
    const { key, teamId } = await teamWithKey(gwDeadLocal, { mode: 'local-first' })
    const res = await chat(gwDeadLocal, key, { stream: true })
    expect(res.headers.get('x-moe-fallback-reason')).toBe('local:connect_error')
    const { events } = await readSse(res)
    expect(events.length).toBeGreaterThan(3)
    const [row] = await usageRowsOf(gwDeadLocal, teamId)
    expect(row).toMatchObject({ backend: 'hosted', fellBack: true, streamed: true, status: 200 })
  })

  it('falls back when a stream sends headers but no first byte in time', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local-first' })
    const res = await chat(gw, key, { stream: true, fake_local: { hang: true } })
    expect(res.headers.get('x-moe-fallback-reason')).toBe('local:timeout')
    await res.text()
    await expect.poll(() => local.requests.at(-1)?.aborted).toBe(true)
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'hosted', fallbackReason: 'local:timeout' })
  })

  it('falls back from hosted to local on DeepSeek 402 (insufficient balance)', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted-first' })
    const res = await chat(gw, key, { fake_behavior: { status: 402 } })
    expect(res.headers.get('x-moe-backend')).toBe('local')
    expect(res.headers.get('x-moe-fallback-reason')).toBe('hosted:status_402')
    expect((await res.json()) as unknown).toMatchObject({ model: 'local-moe' })
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'local', fellBack: true, costNanoUsd: 0 })
  })

  it('does not retry a client error: DeepSeek 422 reaches the client as is', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted-first' })
    const res = await chat(gw, key, { fake_behavior: { status: 422 } })
    expect(res.status).toBe(422)
    const body = (await res.json()) as { error: { message: string; code: string } }
    expect(body.error.message.length).toBeGreaterThan(0)
    expect(res.headers.get('x-moe-fallback-reason')).toBeNull()
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ status: 422, backend: 'hosted', attempts: 1, fellBack: false })
  })

  it('hands a 429 with Retry-After to the client when there is nothing to fall back to', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const res = await chat(gw, key, { fake_behavior: { status: 429, retryAfterSeconds: 7 } })
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('7')
    expect(((await res.json()) as { error: { type: string } }).error.type).toBeTruthy()
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ status: 429, errorCode: expect.any(String) })
  })

  it('answers 502 when every backend is down, with one row that says so', async () => {
    const { key, teamId } = await teamWithKey(gwDeadLocal, { mode: 'local-first' })
    const res = await chat(gwDeadLocal, key, { fake_behavior: { status: 503 } })
    expect(res.status).toBe(503)
    const rows = await usageRowsOf(gwDeadLocal, teamId)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ status: 503, attempts: 2, fallbackReason: 'local:connect_error' })
  })

  it('ends a stream that breaks after its first byte with an SSE error event and an estimated row', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local-first' })
    const res = await chat(gw, key, { stream: true, fake_local: { closeAfterChunks: 3 } })
    expect(res.headers.get('x-moe-backend')).toBe('local')
    const { events, text } = await readSse(res)
    expect(events.at(-1)).toMatchObject({ error: { code: 'upstream_stream_broken' } })
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ status: 502, errorCode: 'upstream_stream_broken', usageEstimated: true, fellBack: false })
    expect(row!.completionTokens).toBeGreaterThan(0)
  })
})

describe('per-request backend override', () => {
  it('uses x-moe-backend when the team allows it', async () => {
    const { key } = await teamWithKey(gw, { mode: 'hosted', allowOverride: true })
    const res = await chat(gw, key, {}, { 'x-moe-backend': 'local' })
    expect(res.headers.get('x-moe-backend')).toBe('local')
  })

  it('refuses it with 403 when the team does not, and records the refusal', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted', allowOverride: false })
    const res = await chat(gw, key, {}, { 'x-moe-backend': 'local' })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('backend_override_not_allowed')
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ status: 403, errorCode: 'backend_override_not_allowed', backend: null })
  })

  it('rejects an unknown backend name with 400', async () => {
    const { key } = await teamWithKey(gw)
    const res = await chat(gw, key, {}, { 'x-moe-backend': 'mars' })
    expect(res.status).toBe(400)
  })
})
