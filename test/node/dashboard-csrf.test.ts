import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import { teams } from '../../src/db/schema.js'
import type { RunningGateway } from '../../src/node.js'
import { teamWithRoles } from '../support/admin-as.js'
import { startTestGateway } from '../support/gateway.js'
import { csrfOf, DashboardBrowser, signedIn } from './dashboard-support.js'

let gw: RunningGateway
let a: Awaited<ReturnType<typeof teamWithRoles>>
let b: Awaited<ReturnType<typeof teamWithRoles>>

beforeAll(async () => {
  gw = await startTestGateway()
  a = await teamWithRoles(gw, 'dash-csrf-a', { backend_mode: 'hosted' })
  b = await teamWithRoles(gw, 'dash-csrf-b')
})
afterAll(async () => gw?.close())

const modeOf = async (teamId: string) => (await gw.db.select().from(teams).where(eq(teams.id, teamId)).get())?.backendMode

describe('dashboard CSRF defences', () => {
  describe('sign-in (double-submit token)', () => {
    it('refuses a sign-in POST without the token, or with one that does not match its cookie', async () => {
      const browser = new DashboardBrowser(gw.url)
      const form = await browser.get('/dashboard/sign-in')
      const token = csrfOf(form.body)
      expect(browser.jar.get('moe_sign_in')).toBe(token)
      for (const csrf of [undefined, '', token.slice(0, -1), 'x.y']) {
        const fields: Record<string, string> = { api_key: a.member.key }
        if (csrf !== undefined) fields.csrf = csrf
        const { res, cookies } = await browser.post('/dashboard/sign-in', fields)
        expect(res.status, String(csrf)).toBe(403)
        expect(cookies.find((c) => c.name === 'moe_session')).toBeUndefined()
      }
      // A token posted without its cookie (another browser's) is refused too.
      const other = new DashboardBrowser(gw.url)
      expect((await other.post('/dashboard/sign-in', { api_key: a.member.key, csrf: token })).res.status).toBe(403)
    })

    it('refuses a cookie and form that agree but that the gateway did not make', async () => {
      const browser = new DashboardBrowser(gw.url)
      browser.jar.set('moe_sign_in', 'planted.token')
      expect((await browser.post('/dashboard/sign-in', { api_key: a.member.key, csrf: 'planted.token' })).res.status).toBe(403)
    })

    it('refuses a sign-in POST from another origin, or naming no origin', async () => {
      const browser = new DashboardBrowser(gw.url)
      const token = csrfOf((await browser.get('/dashboard/sign-in')).body)
      const fields = { api_key: a.member.key, csrf: token }
      const foreign: Array<Record<string, string>> = [{ origin: 'https://evil.example' }, { origin: 'null' }, { origin: gw.url.replace('http:', 'https:') }, { referer: 'https://evil.example/page' }, {}]
      for (const headers of foreign) {
        const { res } = await browser.post('/dashboard/sign-in', fields, headers)
        expect(res.status, JSON.stringify(headers)).toBe(403)
      }
      // Referer from our own pages stands in for a missing Origin.
      expect((await browser.post('/dashboard/sign-in', fields, { referer: `${gw.url}/dashboard/sign-in` })).res.status).toBe(303)
    })
  })

  describe('signed-in forms (token bound to the session)', () => {
    it('refuses a backend switch without the token, with another session\'s token, or from another origin', async () => {
      const admin = await signedIn(gw, a.teamAdmin.key)
      const other = await signedIn(gw, b.teamAdmin.key)
      const otherToken = csrfOf((await other.get('/dashboard/team')).body)
      const fields = { team: a.team.id, backend_mode: 'local' }
      expect((await admin.post('/dashboard/team/backend-mode', fields)).res.status).toBe(403)
      expect((await admin.post('/dashboard/team/backend-mode', { ...fields, csrf: otherToken })).res.status).toBe(403)
      const token = csrfOf((await admin.get('/dashboard/team')).body)
      expect((await admin.post('/dashboard/team/backend-mode', { ...fields, csrf: token }, { origin: 'https://evil.example' })).res.status).toBe(403)
      expect((await admin.post('/dashboard/team/backend-mode', { ...fields, csrf: token }, {})).res.status).toBe(403)
      expect(await modeOf(a.team.id)).toBe('hosted')

      const ok = await admin.post('/dashboard/team/backend-mode', { ...fields, csrf: token })
      expect(ok.res.status).toBe(303)
      expect(await modeOf(a.team.id)).toBe('local')
    })

    it('refuses a sign-out without the session\'s token, and signs out with it', async () => {
      const browser = await signedIn(gw, a.member.key)
      expect((await browser.post('/dashboard/sign-out', {})).res.status).toBe(403)
      expect((await browser.get('/dashboard/team')).res.status).toBe(200)
      const token = csrfOf((await browser.get('/dashboard/team')).body)
      expect((await browser.post('/dashboard/sign-out', { csrf: token }, { origin: 'https://evil.example' })).res.status).toBe(403)
      expect((await browser.post('/dashboard/sign-out', { csrf: token })).res.status).toBe(303)
      expect(browser.jar.has('moe_session')).toBe(false)
    })

    it('gives a new token per session: an old session\'s token does not work in the next', async () => {
      const first = await signedIn(gw, a.teamAdmin.key)
      const oldToken = csrfOf((await first.get('/dashboard/team')).body)
      const second = await signedIn(gw, a.teamAdmin.key)
      const newToken = csrfOf((await second.get('/dashboard/team')).body)
      expect(newToken).not.toBe(oldToken)
      expect((await second.post('/dashboard/team/backend-mode', { team: a.team.id, backend_mode: 'hosted', csrf: oldToken })).res.status).toBe(403)
    })
  })
})
