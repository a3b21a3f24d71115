import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiKeys } from '../../src/db/schema.js'
import type { RunningGateway } from '../../src/node.js'
import { callAs, createTestKey, createTestTeam, errorCode } from '../support/admin-as.js'
import { ADMIN_KEY, startTestGateway } from '../support/gateway.js'

let gw: RunningGateway
beforeAll(async () => {
  gw = await startTestGateway()
})
afterAll(async () => gw?.close())

const authStatus = async (key: string) => {
  const res = await callAs(gw, key, 'GET', '/v1/models')
  await res.arrayBuffer()
  return res.status
}

interface ListedKey {
  id: string
  name: string
  role: string
  team: string
  expires_at: string | null
  replaced_by: string | null
  last_used_at: string | null
  allowed_models: string[] | null
  allowed_backends: string[] | null
}

async function listed(team: string, id: string): Promise<ListedKey> {
  const { data } = (await (await callAs(gw, ADMIN_KEY, 'GET', `/admin/keys?team=${team}`)).json()) as { data: ListedKey[] }
  const key = data.find((k) => k.id === id)
  if (!key) throw new Error(`key ${id} not listed`)
  return key
}

interface Rotated extends ListedKey {
  key: string
  replaces: { id: string; expires_at: string }
}

describe('key rotation', () => {
  it('gives a new key at once and keeps the old one working until the grace period ends', async () => {
    const team = await createTestTeam(gw, 'rotate')
    const old = await createTestKey(gw, { team: team.name, name: 'deploy-bot', role: 'team-admin', allowed_models: ['deepseek-flash'], allowed_backends: ['hosted'] })
    const startedAt = Date.now()
    const res = await callAs(gw, ADMIN_KEY, 'POST', `/admin/keys/${old.id}/rotate`, { grace_seconds: 2 })
    expect(res.status).toBe(201)
    const rotated = (await res.json()) as Rotated
    expect(rotated).toMatchObject({ name: 'deploy-bot', role: 'team-admin', team: team.name, allowed_models: ['deepseek-flash'], allowed_backends: ['hosted'], replaces: { id: old.id } })
    expect(rotated.key).toMatch(/^mgw_/)
    expect(rotated.id).not.toBe(old.id)
    expect(await authStatus(rotated.key)).toBe(200)
    expect(await authStatus(old.key)).toBe(200) // within the grace period

    expect(await listed(team.name, old.id)).toMatchObject({ replaced_by: rotated.id, expires_at: rotated.replaces.expires_at })
    await expect.poll(() => authStatus(old.key), { timeout: 8000, interval: 100 }).toBe(401)
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2000)
    expect(await authStatus(rotated.key)).toBe(200)
  })

  it('refuses to rotate a key twice, a revoked key, or a bad grace period', async () => {
    const team = await createTestTeam(gw, 'rotate2')
    const key = await createTestKey(gw, { team: team.name })
    for (const grace of [-1, 'soon', 10 ** 9, 1.5]) {
      const bad = await callAs(gw, ADMIN_KEY, 'POST', `/admin/keys/${key.id}/rotate`, { grace_seconds: grace })
      expect([bad.status, await errorCode(bad)]).toEqual([400, 'invalid_grace_seconds'])
    }
    expect((await callAs(gw, ADMIN_KEY, 'POST', `/admin/keys/${key.id}/rotate`)).status).toBe(201)
    const again = await callAs(gw, ADMIN_KEY, 'POST', `/admin/keys/${key.id}/rotate`, {})
    expect([again.status, await errorCode(again)]).toEqual([409, 'key_already_rotated'])
    const revoked = await createTestKey(gw, { team: team.name })
    await callAs(gw, ADMIN_KEY, 'DELETE', `/admin/keys/${revoked.id}`)
    const dead = await callAs(gw, ADMIN_KEY, 'POST', `/admin/keys/${revoked.id}/rotate`, {})
    expect([dead.status, await errorCode(dead)]).toEqual([409, 'key_revoked'])
  })

  it('defaults to an hour of grace, and a grace of 0 ends the old key at once', async () => {
    const team = await createTestTeam(gw, 'rotate3')
    const a = await createTestKey(gw, { team: team.name })
    const before = Date.now()
    const hour = (await (await callAs(gw, ADMIN_KEY, 'POST', `/admin/keys/${a.id}/rotate`)).json()) as Rotated
    const ends = Date.parse(hour.replaces.expires_at) - before
    expect(ends).toBeGreaterThanOrEqual(3600_000)
    expect(ends).toBeLessThan(3600_000 + 5000)
    const b = await createTestKey(gw, { team: team.name })
    expect(await authStatus(b.key)).toBe(200)
    expect((await callAs(gw, ADMIN_KEY, 'POST', `/admin/keys/${b.id}/rotate`, { grace_seconds: 0 })).status).toBe(201)
    expect(await authStatus(b.key)).toBe(401)
  })
})

describe('key expiry and settings', () => {
  it('stops a key when expires_at passes, and an update takes effect at once on this process', async () => {
    const team = await createTestTeam(gw, 'expiry')
    const key = await createTestKey(gw, { team: team.name })
    expect(await authStatus(key.key)).toBe(200) // now cached
    const patched = await callAs(gw, ADMIN_KEY, 'PATCH', `/admin/keys/${key.id}`, { expires_at: new Date(Date.now() + 1000).toISOString() })
    expect(patched.status).toBe(200)
    await expect.poll(() => authStatus(key.key), { timeout: 5000, interval: 100 }).toBe(401)
    expect((await callAs(gw, ADMIN_KEY, 'PATCH', `/admin/keys/${key.id}`, { expires_at: null })).status).toBe(200)
    expect(await authStatus(key.key)).toBe(200)
  })

  it.each([
    [{ allowed_models: [] }, 'invalid_allowed_models'],
    [{ allowed_models: 'deepseek-flash' }, 'invalid_allowed_models'],
    [{ allowed_backends: ['gpu'] }, 'invalid_allowed_backends'],
    [{ expires_at: 'next tuesday' }, 'invalid_expiry'],
    [{}, 'invalid_request_error'],
  ])('refuses the update %j with 400 %s', async (body, code) => {
    const team = await createTestTeam(gw, 'bad')
    const key = await createTestKey(gw, { team: team.name })
    const res = await callAs(gw, ADMIN_KEY, 'PATCH', `/admin/keys/${key.id}`, body)
    expect([res.status, await errorCode(res)]).toEqual([400, code])
  })
})

describe('last_used_at', () => {
  it('is empty for a new key and set once the key is used', async () => {
    const team = await createTestTeam(gw, 'seen')
    const key = await createTestKey(gw, { team: team.name })
    expect((await listed(team.name, key.id)).last_used_at).toBeNull()
    const usedAt = Date.now()
    expect(await authStatus(key.key)).toBe(200)
    await expect.poll(async () => (await listed(team.name, key.id)).last_used_at, { timeout: 5000, interval: 50 }).not.toBeNull()
    const seen = Date.parse((await listed(team.name, key.id)).last_used_at!)
    expect(seen).toBeGreaterThanOrEqual(usedAt)
    expect(seen).toBeLessThanOrEqual(Date.now())
  })

  it('is not written again within the minute, however often the key is used', async () => {
    const team = await createTestTeam(gw, 'busy')
    const busy = await createTestKey(gw, { team: team.name })
    expect(await authStatus(busy.key)).toBe(200)
    await expect.poll(async () => (await listed(team.name, busy.id)).last_used_at, { timeout: 5000, interval: 50 }).not.toBeNull()
    const SENTINEL = 1
    await gw.db.update(apiKeys).set({ lastUsedAt: SENTINEL }).where(eq(apiKeys.id, busy.id))
    for (let i = 0; i < 5; i++) expect(await authStatus(busy.key)).toBe(200)
    // A write for another key issued after those requests has landed: a write for `busy` would have too.
    const other = await createTestKey(gw, { team: team.name })
    expect(await authStatus(other.key)).toBe(200)
    await expect.poll(async () => (await listed(team.name, other.id)).last_used_at, { timeout: 5000, interval: 50 }).not.toBeNull()
    const row = await gw.db.select({ lastUsedAt: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, busy.id)).get()
    expect(row?.lastUsedAt).toBe(SENTINEL)
  })
})
