import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { callAs, createTestKey, errorCode, teamWithRoles } from '../support/admin-as.js'
import { ADMIN_KEY, startTestGateway, uniqueName } from '../support/gateway.js'

let gw: RunningGateway
let a: Awaited<ReturnType<typeof teamWithRoles>>
let b: Awaited<ReturnType<typeof teamWithRoles>>

beforeAll(async () => {
  gw = await startTestGateway()
  a = await teamWithRoles(gw, 'esc-a')
  b = await teamWithRoles(gw, 'esc-b')
})
afterAll(async () => gw?.close())

interface Listed {
  data: Array<{ id: string; name: string; team?: string | null }>
}

describe('a team-admin cannot escalate', () => {
  it('cannot create an admin key, nor any key for another team', async () => {
    const admin = await callAs(gw, a.teamAdmin.key, 'POST', '/admin/keys', { name: 'root', role: 'admin' })
    expect([admin.status, await errorCode(admin)]).toEqual([403, 'role_not_allowed'])
    const forB = await callAs(gw, a.teamAdmin.key, 'POST', '/admin/keys', { team: b.team.name, name: 'x', role: 'team-admin' })
    expect([forB.status, await errorCode(forB)]).toEqual([404, 'team_not_found'])
    const keysOfB = (await (await callAs(gw, ADMIN_KEY, 'GET', `/admin/keys?team=${b.team.name}`)).json()) as Listed
    expect(keysOfB.data.map((k) => k.name).sort()).toEqual(['dev', 'lead'])
  })

  it('creates member and team-admin keys for its own team, which is the default', async () => {
    const lead = await createTestKey(gw, { name: 'second-lead', role: 'team-admin' }, a.teamAdmin.key)
    const listed = (await (await callAs(gw, ADMIN_KEY, 'GET', `/admin/keys?team=${a.team.name}`)).json()) as Listed
    expect(listed.data.map((k) => k.id)).toContain(lead.id)
    expect((await callAs(gw, lead.key, 'GET', '/admin/keys')).status).toBe(200)
  })

  it('cannot create teams, and sees only its own team and keys', async () => {
    expect((await callAs(gw, a.teamAdmin.key, 'POST', '/admin/teams', { name: uniqueName('mine') })).status).toBe(403)
    const teams = (await (await callAs(gw, a.teamAdmin.key, 'GET', '/admin/teams')).json()) as Listed
    expect(teams.data.map((t) => t.id)).toEqual([a.team.id])
    const keys = (await (await callAs(gw, a.teamAdmin.key, 'GET', '/admin/keys')).json()) as Listed
    expect(keys.data.length).toBeGreaterThan(0)
    expect(new Set(keys.data.map((k) => k.team))).toEqual(new Set([a.team.name]))
  })

  it('cannot touch gateway admin keys', async () => {
    const admin = await createTestKey(gw, { name: 'ops', role: 'admin' })
    for (const [method, path, body] of [
      ['DELETE', `/admin/keys/${admin.id}`, undefined],
      ['PATCH', `/admin/keys/${admin.id}`, { name: 'mine' }],
      ['POST', `/admin/keys/${admin.id}/rotate`, {}],
    ] as const) {
      expect((await callAs(gw, a.teamAdmin.key, method, path, body)).status, `${method} ${path}`).toBe(404)
    }
    // ... while a database admin key is a gateway admin like ADMIN_KEY.
    expect((await callAs(gw, admin.key, 'POST', '/admin/teams', { name: uniqueName('by-admin-key') })).status).toBe(201)
  })

  it('cannot change a key role', async () => {
    const res = await callAs(gw, a.teamAdmin.key, 'PATCH', `/admin/keys/${a.member.id}`, { role: 'admin' })
    expect([res.status, await errorCode(res)]).toEqual([400, 'role_immutable'])
  })

  it('with restricted models or backends, cannot hand out keys that may do more', async () => {
    const narrow = await createTestKey(gw, { team: a.team.name, name: 'narrow-lead', role: 'team-admin', allowed_models: ['deepseek-flash'], allowed_backends: ['hosted'] })
    const wider = await callAs(gw, narrow.key, 'POST', '/admin/keys', { name: 'x', allowed_models: ['deepseek-flash', 'deepseek-v4-pro'] })
    expect([wider.status, await errorCode(wider)]).toEqual([403, 'restriction_escalation'])
    const any = await callAs(gw, narrow.key, 'POST', '/admin/keys', { name: 'x', allowed_backends: null })
    expect([any.status, await errorCode(any)]).toEqual([403, 'restriction_escalation'])
    const inherited = (await (await callAs(gw, narrow.key, 'POST', '/admin/keys', { name: 'x' })).json()) as { allowed_models: string[]; allowed_backends: string[] }
    expect(inherited).toMatchObject({ allowed_models: ['deepseek-flash'], allowed_backends: ['hosted'] })
    const widen = await callAs(gw, narrow.key, 'PATCH', `/admin/keys/${a.member.id}`, { allowed_models: null })
    expect(widen.status).toBe(403)
  })
})
