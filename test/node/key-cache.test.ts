import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { adminCall, startTestGateway, teamWithKey } from '../support/gateway.js'

let deepseek: FakeDeepSeek
let a: RunningGateway
let b: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  const env = { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url }
  a = await startTestGateway({ env })
  // Same database, another process's cache; a short TTL keeps the test quick.
  b = await startTestGateway({ env: { ...env, KEY_CACHE_TTL_MS: '800' } })
})

afterAll(async () => {
  await a?.close()
  await b?.close()
  await deepseek?.close()
})

async function status(gw: RunningGateway, key: string): Promise<number> {
  const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })
  await res.arrayBuffer()
  return res.status
}

describe('the verified-key cache', () => {
  it('serves cached keys without the database, and sees a revocation by another process within the TTL', async () => {
    const { key, keyId } = await teamWithKey(a)
    expect(await status(b, key)).toBe(200) // b caches it
    expect((await adminCall(a, 'DELETE', `/admin/keys/${keyId}`)).status).toBe(200)
    expect(await status(a, key)).toBe(401) // a forgot it at once
    const revokedAt = Date.now()
    expect(await status(b, key)).toBe(200) // b still trusts its cache: no database round trip
    await expect.poll(() => status(b, key), { timeout: 5000, interval: 50 }).toBe(401)
    expect(Date.now() - revokedAt).toBeLessThan(800 + 1000)
  })

  it('never lets KEY_CACHE_TTL_MS exceed the 30 s revocation promise', async () => {
    const { parseConfig } = await import('../../src/config.js')
    expect(parseConfig({ KEY_CACHE_TTL_MS: '600000' }).keyCacheTtlMs).toBe(30_000)
    expect(parseConfig({}).keyCacheTtlMs).toBe(30_000)
    expect(() => parseConfig({ KEY_CACHE_TTL_MS: 'soon' })).toThrow(/positive integer/)
  })
})
