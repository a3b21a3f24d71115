/**
 * Security (a): a real node-host (real llama.cpp, tiny generated MoE) refuses unsigned, stale,
 * replayed, tampered-body and wrong-secret requests with 401 and generates nothing for them.
 * Bound: 7 requests plus one real generation of 4 tokens; ~10 s with the model cached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import { importSigningKey, signRequest } from '../../src/signing.js'

const SECRET = 'security-test-secret-0123456789'
const PATH = '/v1/chat/completions'
const body = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })

let host: NodeHost
let key: CryptoKey

beforeAll(async () => {
  const model = await ensureTestModel({ layout: 'llama-moe', size: 'tiny' })
  host = await startNodeHost({ model, secret: SECRET, threads: 1 })
  key = await importSigningKey(SECRET)
})

afterAll(async () => {
  await host?.close()
})

function send(headers: Record<string, string>, payload = body): Promise<Response> {
  return fetch(`${host.url}${PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload })
}

/** Tokens generated so far, from node-host's own (signed) metrics. */
async function completionTokensTotal(): Promise<number> {
  const headers = await signRequest(key, { method: 'GET', pathAndQuery: '/metrics', body: '' })
  const text = await (await fetch(`${host.url}/metrics`, { headers })).text()
  const match = /^node_host_completion_tokens_total (\d+)$/m.exec(text)
  if (!match?.[1]) throw new Error('no completion token counter in /metrics')
  return Number(match[1])
}

async function expectRefused(res: Response, code: string): Promise<void> {
  expect(res.status).toBe(401)
  expect(await res.json()).toMatchObject({ error: { type: 'authentication_error', code } })
}

describe('node-host refuses requests the gateway did not sign', () => {
  it('answers 401 to unsigned, stale, replayed, tampered and wrong-secret requests, generating nothing', async () => {
    const before = await completionTokensTotal()
    const now = Math.floor(Date.now() / 1000)

    await expectRefused(await send({}), 'signature_missing')
    await expectRefused(await send(await signRequest(key, { method: 'POST', pathAndQuery: PATH, body, nowSeconds: now - 61 })), 'signature_stale')
    await expectRefused(await send(await signRequest(key, { method: 'POST', pathAndQuery: PATH, body, nowSeconds: now + 61 })), 'signature_stale')
    await expectRefused(await send(await signRequest(key, { method: 'POST', pathAndQuery: PATH, body }), body.replace('hi', 'ho')), 'signature_bad_signature')
    const wrongKey = await importSigningKey('another-secret-0123456789abcdef')
    await expectRefused(await send(await signRequest(wrongKey, { method: 'POST', pathAndQuery: PATH, body })), 'signature_bad_signature')
    expect(await completionTokensTotal()).toBe(before)

    // A genuine request is served once; the same bytes again are a replay.
    const signed = await signRequest(key, { method: 'POST', pathAndQuery: PATH, body })
    const first = await send(signed)
    expect(first.status).toBe(200)
    await first.json()
    const afterOne = await completionTokensTotal()
    expect(afterOne).toBeGreaterThan(before)
    await expectRefused(await send(signed), 'signature_replayed')
    expect(await completionTokensTotal()).toBe(afterOne)
  })
})
