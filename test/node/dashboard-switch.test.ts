import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { and, eq } from 'drizzle-orm'
import { auditLog, teams } from '../../src/db/schema.js'
import type { RunningGateway } from '../../src/node.js'
import { teamWithRoles } from '../support/admin-as.js'
import { ADMIN_KEY } from '../support/gateway.js'
import { startGatewayStack, type GatewayStack } from '../support/stack.js'
import { servedBy as servedByOf } from './pool-support.js'
import { csrfOf, rowValues, signedIn, testValue } from './dashboard-support.js'

const SECRET = 'node-host-secret-for-dashboard-switch'
let stack: GatewayStack | undefined
let gw: RunningGateway

beforeAll(async () => {
  stack = await startGatewayStack({ secret: SECRET })
  ;({ gw } = stack)
})
afterAll(() => stack?.close())

const servedBy = (key: string) => servedByOf(gw, key)
const modeOf = async (teamId: string) => (await gw.db.select().from(teams).where(eq(teams.id, teamId)).get())?.backendMode
const auditsOf = (teamId: string) => gw.db.select().from(auditLog).where(and(eq(auditLog.teamId, teamId), eq(auditLog.action, 'team.update'))).all()

async function switchMode(key: string, fields: Record<string, string>) {
  const browser = await signedIn(gw, key)
  const page = await browser.get(fields.team ? `/dashboard/team?team=${fields.team}` : '/dashboard/team')
  const csrf = page.res.status === 200 ? csrfOf(page.body) : ''
  return { browser, ...(await browser.post('/dashboard/team/backend-mode', { csrf, ...fields })) }
}

describe('dashboard backend-mode switch', () => {
  it("lets a team-admin switch its team's mode: database, audit log and the very next request follow", async () => {
    const t = await teamWithRoles(gw, 'dash-switch', { backend_mode: 'hosted' })
    // The member's key is in the verifier's cache, with the team's old mode.
    expect(await servedBy(t.member.key)).toBe('hosted')

    const browser = await signedIn(gw, t.teamAdmin.key)
    const before = await browser.get('/dashboard/team')
    expect(testValue(before.body, 'backend-mode')).toBe('hosted')
    expect(rowValues(before.body, 'backend-health')).toContain('hosted')
    expect(rowValues(before.body, 'backend-health').length).toBeGreaterThanOrEqual(2)

    const { res } = await browser.post('/dashboard/team/backend-mode', { csrf: csrfOf(before.body), team: t.team.id, backend_mode: 'local' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/dashboard/team')
    expect(await modeOf(t.team.id)).toBe('local')
    const audits = await auditsOf(t.team.id)
    expect(audits.at(-1)).toMatchObject({ actorKeyId: t.teamAdmin.id, actorRole: 'team-admin', target: t.team.id, details: { backend_mode: 'local' } })
    expect(await servedBy(t.member.key)).toBe('local')

    // Post/redirect/get: the notice shows once.
    const after = await browser.get('/dashboard/team')
    expect(after.body).toContain('data-testid="flash"')
    expect(after.body).toContain('Backend mode set to local')
    expect(testValue(after.body, 'backend-mode')).toBe('local')
    expect((await browser.get('/dashboard/team')).body).not.toContain('data-testid="flash"')
  })

  it('refuses a member (403) and leaves the mode alone', async () => {
    const t = await teamWithRoles(gw, 'dash-switch-member', { backend_mode: 'hosted' })
    const browser = await signedIn(gw, t.member.key)
    const page = await browser.get('/dashboard/team')
    expect(page.body).not.toContain('backend-mode-form')
    const { res } = await browser.post('/dashboard/team/backend-mode', { csrf: csrfOf(page.body), team: t.team.id, backend_mode: 'local' })
    expect(res.status).toBe(403)
    expect(await modeOf(t.team.id)).toBe('hosted')
    expect(await auditsOf(t.team.id)).toHaveLength(1) // the test setup's PATCH only
  })

  it("answers a team-admin switching another team's mode as if the team did not exist", async () => {
    const mine = await teamWithRoles(gw, 'dash-switch-own')
    const other = await teamWithRoles(gw, 'dash-switch-other', { backend_mode: 'hosted' })
    const browser = await signedIn(gw, mine.teamAdmin.key)
    const page = await browser.get('/dashboard/team')
    const { res } = await browser.post('/dashboard/team/backend-mode', { csrf: csrfOf(page.body), team: other.team.id, backend_mode: 'local' })
    expect(res.status).toBe(404)
    expect(await modeOf(other.team.id)).toBe('hosted')
  })

  it('lets a gateway admin switch any team, and refuses a mode that does not exist with 400', async () => {
    const t = await teamWithRoles(gw, 'dash-switch-admin', { backend_mode: 'local' })
    const { res } = await switchMode(ADMIN_KEY, { team: t.team.id, backend_mode: 'hosted-first' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/dashboard/team?team=${t.team.id}`)
    expect(await modeOf(t.team.id)).toBe('hosted-first')
    expect((await auditsOf(t.team.id)).at(-1)).toMatchObject({ actorKeyId: 'admin_env', details: { backend_mode: 'hosted-first' } })
    expect(await servedBy(t.member.key)).toBe('hosted')

    const bad = await switchMode(ADMIN_KEY, { team: t.team.id, backend_mode: 'gpu' })
    expect(bad.res.status).toBe(400)
    expect(bad.body).toContain('backend_mode must be one of')
    expect(await modeOf(t.team.id)).toBe('hosted-first')
  })
})
