import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { adminCall, startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'

let deepseek: FakeDeepSeek
let gw: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  gw = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, MAX_BODY_BYTES: '65536' } })
})

afterAll(async () => {
  await gw?.close()
  await deepseek?.close()
})

function post(key: string | undefined, body: BodyInit, headers: Record<string, string> = {}) {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body,
  })
}

async function expectOpenAIError(res: Response, status: number, code?: string) {
  expect(res.status).toBe(status)
  const body = (await res.json()) as { error: { message: string; type: string; code: string } }
  expect(typeof body.error.message).toBe('string')
  expect(body.error.message.length).toBeGreaterThan(0)
  expect(typeof body.error.type).toBe('string')
  if (code) expect(body.error.code).toBe(code)
  return body
}

describe('bad input gets a clear 4xx and a usage row', () => {
  const cases: Array<[string, BodyInit, string]> = [
    ['malformed JSON', '{"model": "deepseek-flash", "messages": [', 'invalid_json'],
    ['a JSON array', '[1,2,3]', 'invalid_json'],
    ['missing messages', JSON.stringify({ model: 'deepseek-flash' }), 'invalid_request_error'],
    ['empty messages', JSON.stringify({ model: 'deepseek-flash', messages: [] }), 'invalid_request_error'],
    ['a message without a role', JSON.stringify({ model: 'deepseek-flash', messages: [{ content: 'x' }] }), 'invalid_request_error'],
    ['stream of the wrong type', JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'x' }], stream: 'yes' }), 'invalid_request_error'],
    ['negative max_tokens', JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'x' }], max_tokens: -5 }), 'invalid_request_error'],
    ['a missing model', JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }), 'invalid_request_error'],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'invalid_encoding'],
  ]

  it.each(cases)('rejects %s with 400', async (_name, body, code) => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const before = deepseek.requests.length
    await expectOpenAIError(await post(key, body), 400, code)
    expect(deepseek.requests.length).toBe(before)
    const rows = await usageRowsOf(gw, teamId)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ status: 400, errorCode: code, backend: null, costNanoUsd: 0 })
  })

  it('rejects a body over the size limit with 413 without reading it all', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const huge = JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'x'.repeat(200_000) }] })
    await expectOpenAIError(await post(key, huge), 413, 'request_too_large')
    expect((await usageRowsOf(gw, teamId))[0]).toMatchObject({ status: 413 })
  })

  it('answers 404 model_not_found for a model no backend serves', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    await expectOpenAIError(await post(key, JSON.stringify({ model: 'gpt-nonexistent', messages: [{ role: 'user', content: 'x' }] })), 404, 'model_not_found')
    expect((await usageRowsOf(gw, teamId))[0]).toMatchObject({ status: 404, requestedModel: 'gpt-nonexistent' })
  })

  it('answers 503 when the team wants a backend this gateway does not have', async () => {
    const { key } = await teamWithKey(gw, { mode: 'local' })
    await expectOpenAIError(await post(key, JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'x' }] })), 503, 'backend_unavailable')
  })

  it('answers unknown routes with an OpenAI-style 404', async () => {
    const { key } = await teamWithKey(gw)
    const res = await fetch(`${gw.url}/v1/embeddingz`, { headers: { authorization: `Bearer ${key}` } })
    await expectOpenAIError(res, 404, 'not_found')
  })
})

describe('keys', () => {
  const body = JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'x' }] })

  it('refuses a missing, malformed or unknown key with 401', async () => {
    await expectOpenAIError(await post(undefined, body), 401, 'missing_api_key')
    await expectOpenAIError(await post(undefined, body, { authorization: 'Basic abc' }), 401, 'missing_api_key')
    await expectOpenAIError(await post('mgw_not-a-real-key', body), 401, 'invalid_api_key')
  })

  it('stops a revoked key at once in the process that revoked it', async () => {
    const { key, keyId } = await teamWithKey(gw, { mode: 'hosted' })
    expect((await post(key, body)).status).toBe(200)
    expect((await adminCall(gw, 'DELETE', `/admin/keys/${keyId}`)).status).toBe(200)
    await expectOpenAIError(await post(key, body), 401, 'invalid_api_key')
  })

  it('refuses an expired key', async () => {
    const { team } = await teamWithKey(gw)
    const res = await adminCall(gw, 'POST', '/admin/keys', { team, name: 'short-lived', expires_at: new Date(Date.now() + 1500).toISOString() })
    const { key } = (await res.json()) as { key: string }
    expect((await post(key, body)).status).not.toBe(401)
    await expect.poll(async () => (await post(key, body)).status, { timeout: 5000, interval: 200 }).toBe(401)
  })

  it('does not let a team key reach the admin API', async () => {
    const { key } = await teamWithKey(gw)
    const res = await fetch(`${gw.url}/admin/teams`, { headers: { authorization: `Bearer ${key}` } })
    await expectOpenAIError(res, 403, 'admin_required')
  })
})
