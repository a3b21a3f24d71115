import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/log.js'
import { startGateway, type RunningGateway } from '../../src/node.js'
import { adminCall, startTestGateway, uniqueName } from '../support/gateway.js'

let gw: RunningGateway
beforeAll(async () => {
  gw = await startTestGateway()
})
afterAll(async () => gw?.close())

describe('admin API', () => {
  it('creates a team, refuses a duplicate, and lists it', async () => {
    const name = uniqueName('acme')
    const created = await adminCall(gw, 'POST', '/admin/teams', { name })
    expect(created.status).toBe(201)
    const team = (await created.json()) as { id: string; name: string }
    expect(team).toMatchObject({ name, id: expect.stringMatching(/^team_/) })
    const dup = await adminCall(gw, 'POST', '/admin/teams', { name })
    expect(dup.status).toBe(409)
    const list = (await (await adminCall(gw, 'GET', '/admin/teams')).json()) as { data: Array<{ name: string }> }
    expect(list.data.map((t) => t.name)).toContain(name)
  })

  it('returns a new key once and only its prefix afterwards', async () => {
    const team = uniqueName('acme')
    await adminCall(gw, 'POST', '/admin/teams', { name: team })
    const res = await adminCall(gw, 'POST', '/admin/keys', { team, name: 'ci-bot', role: 'member' })
    expect(res.status).toBe(201)
    const created = (await res.json()) as { id: string; key: string; prefix: string }
    expect(created.key).toMatch(/^mgw_[A-Za-z0-9_-]{43}$/)
    expect(created.key.startsWith(created.prefix)).toBe(true)
    const listing = await (await adminCall(gw, 'GET', `/admin/keys?team=${team}`)).text()
    expect(listing).toContain(created.prefix)
    expect(listing).not.toContain(created.key)
    const revoked = await adminCall(gw, 'DELETE', `/admin/keys/${created.id}`)
    expect(revoked.status).toBe(200)
    expect((await adminCall(gw, 'DELETE', `/admin/keys/${created.id}`)).status).toBe(409)
    expect((await adminCall(gw, 'DELETE', '/admin/keys/key_nope')).status).toBe(404)
  })

  it('stores keys only as hashes', async () => {
    const team = uniqueName('hash')
    await adminCall(gw, 'POST', '/admin/teams', { name: team })
    const { key } = (await (await adminCall(gw, 'POST', '/admin/keys', { team, name: 'k' })).json()) as { key: string }
    const dump = await gw.client.execute('select * from api_keys')
    expect(JSON.stringify(dump.rows)).not.toContain(key)
  })

  it.each([
    ['POST', '/admin/teams', { name: '' }, 400],
    ['POST', '/admin/teams', { name: 'has space' }, 400],
    ['POST', '/admin/keys', { team: 'no-such-team', name: 'x' }, 404],
    ['POST', '/admin/keys', { team: 'x', name: 'x', role: 'root' }, 400],
    ['POST', '/admin/keys', { name: 'x', role: 'member' }, 400],
    ['PATCH', '/admin/teams/no-such-team', { backend_mode: 'local' }, 404],
    ['GET', '/admin/keys?team=no-such-team', undefined, 404],
  ] as const)('%s %s with %j -> %i', async (method, path, body, status) => {
    const res = await adminCall(gw, method, path, body)
    expect(res.status).toBe(status)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBeTruthy()
  })

  it('refuses non-JSON bodies with 400', async () => {
    const res = await fetch(`${gw.url}/admin/teams`, { method: 'POST', headers: { authorization: `Bearer ${(await import('../support/gateway.js')).ADMIN_KEY}` }, body: 'nope' })
    expect(res.status).toBe(400)
  })
})

describe('first start without ADMIN_KEY', () => {
  it('creates an admin key, prints it once, and it works', async () => {
    const db = `file:${join(mkdtempSync(join(tmpdir(), 'moe-boot-')), 'g.db')}`
    const printed: string[] = []
    const first = await startGateway({ env: { DATABASE_URL: db }, port: 0, log: silentLogger, announce: (t) => printed.push(t) })
    await first.close()
    const second = await startGateway({ env: { DATABASE_URL: db }, port: 0, log: silentLogger, announce: (t) => printed.push(t) })
    try {
      expect(printed).toHaveLength(1)
      const key = /(mgw_[A-Za-z0-9_-]{43})/.exec(printed[0]!)?.[1]
      expect(key).toBeDefined()
      const res = await fetch(`${second.url}/admin/teams`, { headers: { authorization: `Bearer ${key}` } })
      expect(res.status).toBe(200)
    } finally {
      await second.close()
    }
  })
})
