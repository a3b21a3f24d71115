import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLog, apiKeys } from '../../src/db/schema.js'
import type { PublicAuditEntry } from '../../src/admin/audit.js'
import type { RunningGateway } from '../../src/node.js'
import { callAs, createTestKey, errorCode, teamWithRoles } from '../support/admin-as.js'
import { ADMIN_KEY, startTestGateway } from '../support/gateway.js'

type Entry = PublicAuditEntry
interface Page {
  data: Entry[]
  next_before: string | null
}

let gw: RunningGateway
let a: Awaited<ReturnType<typeof teamWithRoles>>
let b: Awaited<ReturnType<typeof teamWithRoles>>
const secrets: string[] = []

async function page(as: string, query = ''): Promise<Page> {
  const res = await callAs(gw, as, 'GET', `/admin/audit${query}`)
  if (res.status !== 200) throw new Error(`audit: ${res.status} ${await res.text()}`)
  return (await res.json()) as Page
}

beforeAll(async () => {
  gw = await startTestGateway()
  a = await teamWithRoles(gw, 'audit-a')
  b = await teamWithRoles(gw, 'audit-b')
  secrets.push(a.teamAdmin.key, a.member.key, b.teamAdmin.key, b.member.key)
})
afterAll(async () => gw?.close())

describe('the audit log', () => {
  it('records every admin action with who, what, when and which team, before the answer', async () => {
    const t0 = Date.now()
    expect((await callAs(gw, ADMIN_KEY, 'PATCH', `/admin/teams/${a.team.name}`, { backend_mode: 'hosted' })).status).toBe(200)
    const byLead = await createTestKey(gw, { name: 'made-by-lead', allowed_models: ['deepseek-flash'] }, a.teamAdmin.key)
    secrets.push(byLead.key)
    expect((await callAs(gw, a.teamAdmin.key, 'PATCH', `/admin/keys/${byLead.id}`, { name: 'renamed' })).status).toBe(200)
    const rotated = (await (await callAs(gw, a.teamAdmin.key, 'POST', `/admin/keys/${byLead.id}/rotate`, { grace_seconds: 30 })).json()) as { id: string; key: string }
    secrets.push(rotated.key)
    expect((await callAs(gw, ADMIN_KEY, 'DELETE', `/admin/keys/${rotated.id}`)).status).toBe(200)

    const { data } = await page(ADMIN_KEY, `?team=${a.team.name}`)
    const summary = data.map((e) => [e.action, e.actor_key_id, e.actor_role, e.target])
    expect(summary).toEqual([
      ['key.revoke', 'admin_env', 'admin', rotated.id],
      ['key.rotate', a.teamAdmin.id, 'team-admin', byLead.id],
      ['key.update', a.teamAdmin.id, 'team-admin', byLead.id],
      ['key.create', a.teamAdmin.id, 'team-admin', byLead.id],
      ['team.update', 'admin_env', 'admin', a.team.id],
      ['key.create', 'admin_env', 'admin', a.member.id],
      ['key.create', 'admin_env', 'admin', a.teamAdmin.id],
      ['team.create', 'admin_env', 'admin', a.team.id],
    ])
    expect(new Set(data.map((e) => e.team_id))).toEqual(new Set([a.team.id]))
    expect(data[1]!.details).toMatchObject({ grace_seconds: 30, new_key_id: rotated.id })
    expect(data[3]!.details).toMatchObject({ name: 'made-by-lead', role: 'member', allowed_models: ['deepseek-flash'] })
    expect(data[4]!.details).toEqual({ backend_mode: 'hosted' })
    for (const e of data.slice(0, 5)) expect(Date.parse(e.at)).toBeGreaterThanOrEqual(t0)
  })

  it('never stores a key or its hash', async () => {
    const rows = await gw.db.select().from(auditLog).all()
    const hashes = (await gw.db.select({ hash: apiKeys.hash }).from(apiKeys).all()).map((r) => r.hash)
    const dump = JSON.stringify(rows)
    for (const secret of [...secrets, ...hashes]) expect(dump).not.toContain(secret)
  })

  it("shows a team-admin its own team's entries only, and another team is a 404", async () => {
    const own = await page(b.teamAdmin.key)
    expect(own.data.length).toBeGreaterThan(0)
    expect(new Set(own.data.map((e) => e.team_id))).toEqual(new Set([b.team.id]))
    const other = await callAs(gw, b.teamAdmin.key, 'GET', `/admin/audit?team=${a.team.name}`)
    expect([other.status, await errorCode(other)]).toEqual([404, 'team_not_found'])
  })

  it('keeps gateway-wide actions (admin keys) from team-admins', async () => {
    const admin = await createTestKey(gw, { name: 'ops', role: 'admin' })
    const all = await page(ADMIN_KEY, '?limit=500')
    expect(all.data.find((e) => e.target === admin.id)).toMatchObject({ action: 'key.create', team_id: null })
    expect((await page(a.teamAdmin.key, '?limit=500')).data.find((e) => e.target === admin.id)).toBeUndefined()
  })

  it('pages newest first with limit and before, without gaps or repeats', async () => {
    const full = (await page(ADMIN_KEY, `?team=${a.team.id}`)).data.map((e) => e.id)
    const seen: string[] = []
    let before: string | null = ''
    while (before !== null) {
      const p: Page = await page(ADMIN_KEY, `?team=${a.team.id}&limit=3${before ? `&before=${before}` : ''}`)
      seen.push(...p.data.map((e) => e.id))
      before = p.next_before
    }
    expect(seen).toEqual(full)
    const stored = await gw.db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.teamId, a.team.id)).all()
    expect([...full].sort()).toEqual(stored.map((r) => r.id).sort())
    const byTime = await page(ADMIN_KEY, `?team=${a.team.id}&before=${new Date(0).toISOString()}`)
    expect(byTime.data).toEqual([])
  })

  it.each(['?limit=0', '?limit=501', '?limit=ten', '?before=yesterday'])('refuses %s with 400', async (query) => {
    expect((await callAs(gw, ADMIN_KEY, 'GET', `/admin/audit${query}`)).status).toBe(400)
  })
})
