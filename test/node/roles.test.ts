import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { callAs, createTestKey, teamWithRoles } from '../support/admin-as.js'
import { ADMIN_KEY, startTestGateway, uniqueName } from '../support/gateway.js'

/*
 * Every admin route x every role. "team-admin, other team" is team B's team-admin acting on
 * team A's resources: it must get 404 (as if they did not exist) or, where the action needs a
 * gateway admin whatever the team, 403. Members never reach /admin (403).
 */

let gw: RunningGateway
let a: Awaited<ReturnType<typeof teamWithRoles>>
let b: Awaited<ReturnType<typeof teamWithRoles>>

beforeAll(async () => {
  gw = await startTestGateway()
  a = await teamWithRoles(gw, 'roles-a')
  b = await teamWithRoles(gw, 'roles-b')
})
afterAll(async () => gw?.close())

type Role = 'admin' | 'team-admin, own team' | 'team-admin, other team' | 'member'
const ROLES: Role[] = ['admin', 'team-admin, own team', 'team-admin, other team', 'member']
const keyOf = (role: Role) => ({ admin: ADMIN_KEY, 'team-admin, own team': a.teamAdmin.key, 'team-admin, other team': b.teamAdmin.key, member: a.member.key })[role]

/** A fresh member key of team A, so revoking or rotating it in one case does not affect another. */
const freshKeyOfA = async () => (await createTestKey(gw, { team: a.team.name, name: 'target' })).id

async function freshKeyBudgetOfA(): Promise<string> {
  const res = await callAs(gw, ADMIN_KEY, 'PUT', '/admin/budgets', { key: await freshKeyOfA(), period: 'month', limit_usd: '100.00' })
  if (!res.ok) throw new Error(`budget: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { id: string }).id
}

interface RouteCase {
  route: string
  request: () => Promise<{ method: string; path: string; body?: unknown }>
  expected: Record<Role, number>
}

const all = (admin: number, own: number, other: number, member = 403): Record<Role, number> => ({ admin, 'team-admin, own team': own, 'team-admin, other team': other, member })

const ROUTES: RouteCase[] = [
  { route: 'POST /admin/teams', request: async () => ({ method: 'POST', path: '/admin/teams', body: { name: uniqueName('new') } }), expected: all(201, 403, 403) },
  { route: 'GET /admin/teams', request: async () => ({ method: 'GET', path: '/admin/teams' }), expected: all(200, 200, 200) },
  { route: 'PATCH /admin/teams/:team', request: async () => ({ method: 'PATCH', path: `/admin/teams/${a.team.name}`, body: { allow_backend_override: true } }), expected: all(200, 200, 404) },
  { route: 'POST /admin/keys', request: async () => ({ method: 'POST', path: '/admin/keys', body: { team: a.team.name, name: 'new' } }), expected: all(201, 201, 404) },
  { route: 'GET /admin/keys?team=', request: async () => ({ method: 'GET', path: `/admin/keys?team=${a.team.name}` }), expected: all(200, 200, 404) },
  { route: 'PATCH /admin/keys/:id', request: async () => ({ method: 'PATCH', path: `/admin/keys/${await freshKeyOfA()}`, body: { name: 'renamed' } }), expected: all(200, 200, 404) },
  { route: 'POST /admin/keys/:id/rotate', request: async () => ({ method: 'POST', path: `/admin/keys/${await freshKeyOfA()}/rotate`, body: { grace_seconds: 60 } }), expected: all(201, 201, 404) },
  { route: 'DELETE /admin/keys/:id', request: async () => ({ method: 'DELETE', path: `/admin/keys/${await freshKeyOfA()}` }), expected: all(200, 200, 404) },
  { route: 'GET /admin/audit?team=', request: async () => ({ method: 'GET', path: `/admin/audit?team=${a.team.name}` }), expected: all(200, 200, 404) },
  { route: 'GET /admin/audit', request: async () => ({ method: 'GET', path: '/admin/audit' }), expected: all(200, 200, 200) },
  // Budgets: team-admins manage their keys' budgets; a team's own budget is a gateway admin's.
  { route: 'PUT /admin/budgets (key)', request: async () => ({ method: 'PUT', path: '/admin/budgets', body: { key: await freshKeyOfA(), period: 'month', limit_usd: '100.00' } }), expected: all(200, 200, 404) },
  { route: 'PUT /admin/budgets (team)', request: async () => ({ method: 'PUT', path: '/admin/budgets', body: { team: a.team.name, period: 'month', limit_usd: '1000.00' } }), expected: all(200, 403, 404) },
  { route: 'GET /admin/budgets?team=', request: async () => ({ method: 'GET', path: `/admin/budgets?team=${a.team.name}` }), expected: all(200, 200, 404) },
  { route: 'DELETE /admin/budgets/:id', request: async () => ({ method: 'DELETE', path: `/admin/budgets/${await freshKeyBudgetOfA()}` }), expected: all(200, 200, 404) },
  // Rate limits are set by gateway admins only (403 whatever the team); team-admins may read their own.
  { route: 'PUT /admin/rate-limits', request: async () => ({ method: 'PUT', path: '/admin/rate-limits', body: { key: await freshKeyOfA(), requests_per_minute: 100000 } }), expected: all(200, 403, 403) },
  { route: 'GET /admin/rate-limits?team=', request: async () => ({ method: 'GET', path: `/admin/rate-limits?team=${a.team.name}` }), expected: all(200, 200, 404) },
  { route: 'DELETE /admin/rate-limits?key=', request: async () => ({ method: 'DELETE', path: `/admin/rate-limits?key=${await freshKeyOfA()}` }), expected: all(200, 403, 403) },
]

describe('roles on every admin route', () => {
  describe.each(ROUTES)('$route', ({ request, expected }) => {
    it.each(ROLES)('as %s', async (role) => {
      const { method, path, body } = await request()
      const res = await callAs(gw, keyOf(role), method, path, body)
      const text = await res.text()
      expect(res.status, text).toBe(expected[role])
      if (res.status >= 400) expect((JSON.parse(text) as { error: { code: string } }).error.code).toBeTruthy()
    })
  })

  it('answers another team exactly like a team or key that does not exist', async () => {
    const otherKey = await callAs(gw, b.teamAdmin.key, 'DELETE', `/admin/keys/${a.member.id}`)
    const noKey = await callAs(gw, b.teamAdmin.key, 'DELETE', '/admin/keys/key_does-not-exist')
    expect([otherKey.status, noKey.status]).toEqual([404, 404])
    const [x, y] = (await Promise.all([otherKey.json(), noKey.json()])) as Array<{ error: { code: string; message: string; type: string } }>
    expect(x!.error.code).toBe(y!.error.code)
    expect(x!.error.message.replace(a.member.id, 'ID')).toBe(y!.error.message.replace('key_does-not-exist', 'ID'))
    const otherTeam = await callAs(gw, b.teamAdmin.key, 'GET', `/admin/keys?team=${a.team.id}`)
    const noTeam = await callAs(gw, b.teamAdmin.key, 'GET', '/admin/keys?team=team_nope')
    expect([otherTeam.status, noTeam.status]).toEqual([404, 404])
  })

  it('keeps members out of every /admin path, known or not', async () => {
    for (const path of ['/admin/teams', '/admin/keys', '/admin/audit', '/admin/no-such-route']) {
      expect((await callAs(gw, a.member.key, 'GET', path)).status, path).toBe(403)
    }
  })

  it('lets member and team-admin keys call the model API surface like before', async () => {
    for (const key of [a.member.key, a.teamAdmin.key]) expect((await callAs(gw, key, 'GET', '/v1/models')).status).toBe(200)
  })
})
