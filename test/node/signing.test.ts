import { describe, expect, it } from 'vitest'
import { importSigningKey, NonceCache, signRequest, verifyRequest, SIGNATURE_HEADER, NONCE_HEADER } from '../../src/signing.js'

const secret = 'test-secret-0123456789'

async function signed(body = '{"a":1}', nowSeconds?: number) {
  const key = await importSigningKey(secret)
  const headers = await signRequest(key, { method: 'POST', pathAndQuery: '/v1/chat/completions', body, nowSeconds })
  return { key, headers: new Headers(headers) }
}

describe('request signing', () => {
  it('accepts a correctly signed request once and refuses its replay', async () => {
    const { key, headers } = await signed()
    const nonces = new NonceCache()
    const req = { method: 'POST', pathAndQuery: '/v1/chat/completions', body: '{"a":1}', headers }
    expect(await verifyRequest(key, nonces, req)).toBeUndefined()
    expect(await verifyRequest(key, nonces, req)).toBe('replayed')
  })

  it('refuses a changed body, path, method or secret', async () => {
    const { key, headers } = await signed()
    const base = { method: 'POST', pathAndQuery: '/v1/chat/completions', body: '{"a":1}', headers }
    expect(await verifyRequest(key, new NonceCache(), { ...base, body: '{"a":2}' })).toBe('bad_signature')
    expect(await verifyRequest(key, new NonceCache(), { ...base, pathAndQuery: '/v1/models' })).toBe('bad_signature')
    expect(await verifyRequest(key, new NonceCache(), { ...base, method: 'PUT' })).toBe('bad_signature')
    const other = await importSigningKey('another-secret-0123456789')
    expect(await verifyRequest(other, new NonceCache(), base)).toBe('bad_signature')
  })

  it('refuses timestamps more than 60 s away and missing or malformed headers', async () => {
    const now = Math.floor(Date.now() / 1000)
    const { key, headers } = await signed('x', now - 61)
    const req = { method: 'POST', pathAndQuery: '/v1/chat/completions', body: 'x', headers }
    expect(await verifyRequest(key, new NonceCache(), req)).toBe('stale')
    const fresh = await signed('x', now - 59)
    expect(await verifyRequest(fresh.key, new NonceCache(), { ...req, headers: fresh.headers })).toBeUndefined()
    const missing = new Headers(fresh.headers)
    missing.delete(SIGNATURE_HEADER)
    expect(await verifyRequest(key, new NonceCache(), { ...req, headers: missing })).toBe('missing')
    const bad = new Headers(fresh.headers)
    bad.set(NONCE_HEADER, 'not hex!')
    expect(await verifyRequest(key, new NonceCache(), { ...req, headers: bad })).toBe('malformed')
  })

  it('a forged signature does not burn the real nonce', async () => {
    const { key, headers } = await signed()
    const nonces = new NonceCache()
    const forged = new Headers(headers)
    forged.set(SIGNATURE_HEADER, 'v1=' + '0'.repeat(64))
    const req = { method: 'POST', pathAndQuery: '/v1/chat/completions', body: '{"a":1}' }
    expect(await verifyRequest(key, nonces, { ...req, headers: forged })).toBe('bad_signature')
    expect(await verifyRequest(key, nonces, { ...req, headers })).toBeUndefined()
  })

  it('rejects secrets too short to be safe', async () => {
    await expect(importSigningKey('short')).rejects.toThrow(/16 characters/)
  })
})
