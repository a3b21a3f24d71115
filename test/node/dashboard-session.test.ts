import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import { createGateway } from '../../src/app.js'
import { parseConfig } from '../../src/config.js'
import { gatewaySettings } from '../../src/db/schema.js'
import { hostedCost, priceTableFrom } from '../../src/metering/cost.js'
import { DASHBOARD_CSP } from '../../src/dashboard/security-headers.js'
import { sealSession, SESSION_TTL_MS, type Session } from '../../src/dashboard/session.js'
import { hmacSigner } from '../../src/dashboard/signer.js'
import type { RunningGateway } from '../../src/node.js'
import { sha256Hex } from '../../src/signing.js'
import { callAs, createTestKey, teamWithRoles } from '../support/admin-as.js'
import { ADMIN_KEY, startTestGateway } from '../support/gateway.js'
import { csrfOf, DashboardBrowser, parseSetCookie, signedIn } from './dashboard-support.js'

let gw: RunningGateway
let a: Awaited<ReturnType<typeof teamWithRoles>>
/** The secret the gateway made and keeps in gateway_settings (no DASHBOARD_SESSION_SECRET here). */
let SECRET: string

beforeAll(async () => {
  gw = await startTestGateway()
  a = await teamWithRoles(gw, 'dash-session')
  await new DashboardBrowser(gw.url).get('/dashboard/sign-in')
  SECRET = (await gw.db.select().from(gatewaySettings).where(eq(gatewaySettings.name, 'dashboard_session_secret')).get())?.value ?? ''
})
afterAll(async () => gw?.close())

const sessionCookieOf = (browser: DashboardBrowser) => browser.jar.get('moe_session')

/** A session cookie sealed with the gateway's secret, as if the gateway had issued it. */
async function forge(session: Partial<Session> & Pick<Session, 'keyId' | 'teamId' | 'role'>, secret = SECRET, binding = ''): Promise<string> {
  const now = Date.now()
  return sealSession(await hmacSigner(secret), { id: 'forged-session', issuedAtMs: now, expiresAtMs: now + 60_000, ...session }, binding)
}

async function teamPageWith(cookie: string) {
  const res = await fetch(`${gw.url}/dashboard/team`, { headers: { cookie: `moe_session=${cookie}` }, redirect: 'manual' })
  await res.text()
  return res
}

describe('dashboard sessions', () => {
  it('sends signed-out visitors to the sign-in page', async () => {
    const browser = new DashboardBrowser(gw.url)
    for (const path of ['/dashboard', '/dashboard/team', '/dashboard/admin', '/dashboard/export/usage.csv']) {
      const { res } = await browser.get(path)
      expect(res.status, path).toBe(303)
      expect(res.headers.get('location'), path).toBe('/dashboard/sign-in')
    }
  })

  it('signs in each role with a POST form and sends it to its home page', async () => {
    const cases = [
      { key: ADMIN_KEY, home: '/dashboard/admin', who: 'ADMIN_KEY · admin' },
      { key: a.teamAdmin.key, home: '/dashboard/team', who: 'lead · team-admin' },
      { key: a.member.key, home: '/dashboard/team', who: 'dev · member' },
    ]
    for (const { key, home, who } of cases) {
      const browser = await signedIn(gw, key)
      const root = await browser.get('/dashboard')
      expect(root.res.headers.get('location')).toBe(home)
      const page = await browser.get(home)
      expect(page.res.status).toBe(200)
      expect(page.body).toContain(who)
    }
  })

  it('also signs in a gateway-wide admin key from the database', async () => {
    const admin = await createTestKey(gw, { name: 'db-admin', role: 'admin' })
    const browser = await signedIn(gw, admin.key)
    expect((await browser.get('/dashboard/admin')).res.status).toBe(200)
  })

  it('sets an HttpOnly, SameSite=Strict, Path=/dashboard session cookie, Secure only over HTTPS', async () => {
    const plain = new DashboardBrowser(gw.url)
    const { res, cookies } = await plain.signIn(a.member.key)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/dashboard')
    const session = cookies.find((c) => c.name === 'moe_session')
    expect(session?.attributes).toMatchObject({ httponly: true, samesite: 'Strict', path: '/dashboard', 'max-age': String(SESSION_TTL_MS / 1000) })
    expect(session?.attributes.secure).toBeUndefined()

    // Behind a TLS-terminating proxy: x-forwarded-proto says the browser is on HTTPS.
    const origin = gw.url.replace('http:', 'https:')
    const tls = new DashboardBrowser(gw.url, { 'x-forwarded-proto': 'https' }, origin)
    const form = await tls.get('/dashboard/sign-in')
    expect(form.cookies.find((c) => c.name === 'moe_sign_in')?.attributes.secure).toBe(true)
    const signIn = await tls.post('/dashboard/sign-in', { api_key: a.member.key, csrf: csrfOf(form.body) }, { origin })
    expect(signIn.res.status).toBe(303)
    expect(signIn.cookies.find((c) => c.name === 'moe_session')?.attributes).toMatchObject({ secure: true, httponly: true, samesite: 'Strict', path: '/dashboard' })
  })

  it('answers a wrong, revoked or malformed key with the sign-in page again, 401, and one generic message', async () => {
    const revoked = await createTestKey(gw, { team: a.team.name, name: 'gone' })
    await callAs(gw, ADMIN_KEY, 'DELETE', `/admin/keys/${revoked.id}`)
    const messages = new Set<string>()
    for (const key of ['mgw_not_a_real_key_0000000000000000000000000000', revoked.key, '', 'x'.repeat(500), a.member.key.slice(0, -1)]) {
      const browser = new DashboardBrowser(gw.url)
      const { res, body, cookies } = await browser.signIn(key)
      expect(res.status).toBe(401)
      expect(cookies.find((c) => c.name === 'moe_session')).toBeUndefined()
      const message = /data-testid="sign-in-error">([^<]*)</.exec(body)?.[1]
      expect(message).toBeDefined()
      messages.add(message ?? '')
      expect(body).toContain('name="api_key"')
    }
    expect([...messages]).toEqual(['That key did not work. Check it and try again.'])
  })

  it('never puts the key in a page, a header or a URL', async () => {
    const browser = await signedIn(gw, a.teamAdmin.key)
    await browser.get('/dashboard')
    await browser.get('/dashboard/team')
    await browser.get('/dashboard/export/usage.csv')
    await browser.get('/dashboard/export/daily.csv')
    await browser.post('/dashboard/sign-out', { csrf: csrfOf((await browser.get('/dashboard/team')).body) })
    const failed = new DashboardBrowser(gw.url)
    await failed.signIn(a.teamAdmin.key.slice(0, -2))
    const keyHash = await sha256Hex(a.teamAdmin.key)
    for (const seen of [...browser.seen, ...failed.seen]) {
      const headers = [...seen.headers].map(([k, v]) => `${k}: ${v}`).join('\n')
      for (const secret of [a.teamAdmin.key, a.teamAdmin.key.slice(0, -2), keyHash]) {
        expect(seen.url).not.toContain(secret)
        expect(headers).not.toContain(secret)
        expect(seen.body).not.toContain(secret)
      }
    }
  })

  it('rejects a tampered cookie', async () => {
    const browser = await signedIn(gw, a.member.key)
    const cookie = sessionCookieOf(browser) ?? ''
    const [payload = '', tag = ''] = cookie.split('.')
    // Promote the member to team-admin, keeping the old tag.
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Session
    const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'team-admin' })).toString('base64url')
    const flipped = tag.slice(0, -1) + (tag.endsWith('A') ? 'B' : 'A')
    for (const bad of [`${promoted}.${tag}`, `${payload}.${flipped}`, `${payload}.`, payload, `${cookie}.x`, 'garbage']) {
      const res = await teamPageWith(bad)
      expect(res.status, bad).toBe(303)
      expect(res.headers.get('location')).toBe('/dashboard/sign-in')
      // The useless cookie is cleared on the way.
      expect(res.headers.getSetCookie().map(parseSetCookie).find((c) => c.name === 'moe_session')?.attributes['max-age']).toBe('0')
    }
    expect((await teamPageWith(cookie)).status).toBe(200)
  })

  it('accepts only sessions signed with its secret', async () => {
    const mine = { keyId: a.member.id, teamId: a.team.id, role: 'member' as const }
    expect((await teamPageWith(await forge(mine))).status).toBe(200)
    expect((await teamPageWith(await forge(mine, 'some-other-secret-0123456789abcdef'))).status).toBe(303)
  })

  it('rejects an expired session, and one issued in the future', async () => {
    const mine = { keyId: a.member.id, teamId: a.team.id, role: 'member' as const }
    const now = Date.now()
    expect((await teamPageWith(await forge({ ...mine, issuedAtMs: now - SESSION_TTL_MS - 1000, expiresAtMs: now - 1000 }))).status).toBe(303)
    expect((await teamPageWith(await forge({ ...mine, issuedAtMs: now + 3_600_000, expiresAtMs: now + 7_200_000 }))).status).toBe(303)
  })

  it("ends a key's sessions on its next request once the key is revoked", async () => {
    const key = await createTestKey(gw, { team: a.team.name, name: 'short-lived' })
    const browser = await signedIn(gw, key.key)
    expect((await browser.get('/dashboard/team')).res.status).toBe(200)
    expect((await callAs(gw, ADMIN_KEY, 'DELETE', `/admin/keys/${key.id}`)).status).toBe(200)
    const after = await browser.get('/dashboard/team')
    expect(after.res.status).toBe(303)
    expect(after.res.headers.get('location')).toBe('/dashboard/sign-in')
  })

  it("ends a key's sessions when the key expires", async () => {
    const key = await createTestKey(gw, { team: a.team.name, name: 'expiring' })
    const browser = await signedIn(gw, key.key)
    const past = new Date(Date.now() - 1000).toISOString()
    const patched = await callAs(gw, ADMIN_KEY, 'PATCH', `/admin/keys/${key.id}`, { expires_at: past })
    expect(patched.status, await patched.text()).toBe(200)
    expect((await browser.get('/dashboard/team')).res.status).toBe(303)
  })

  it('binds ADMIN_KEY sessions to that key: a session for a different ADMIN_KEY does not open', async () => {
    const admin = { keyId: 'admin_env', teamId: null, role: 'admin' as const }
    const res = await fetch(`${gw.url}/dashboard/admin`, { headers: { cookie: `moe_session=${await forge(admin, SECRET, await sha256Hex(ADMIN_KEY))}` }, redirect: 'manual' })
    expect(res.status).toBe(200)
    await res.text()
    for (const binding of ['', await sha256Hex('mgw_some_previous_admin_key')]) {
      const stale = await fetch(`${gw.url}/dashboard/admin`, { headers: { cookie: `moe_session=${await forge(admin, SECRET, binding)}` }, redirect: 'manual' })
      expect(stale.status).toBe(303)
      await stale.text()
    }
  })

  it('signs out with a POST that clears the cookie', async () => {
    const browser = await signedIn(gw, a.member.key)
    const page = await browser.get('/dashboard/team')
    const { res, cookies } = await browser.post('/dashboard/sign-out', { csrf: csrfOf(page.body) })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/dashboard/sign-in')
    expect(cookies.find((c) => c.name === 'moe_session')?.attributes).toMatchObject({ 'max-age': '0', path: '/dashboard' })
    expect(browser.jar.has('moe_session')).toBe(false)
    expect((await browser.get('/dashboard/team')).res.status).toBe(303)
  })

  it('puts the security headers on every dashboard response, and no-store on pages', async () => {
    const browser = await signedIn(gw, a.teamAdmin.key)
    for (const path of ['/dashboard/sign-in', '/dashboard/team', '/dashboard/team?period=nope', '/dashboard/no-such-page', '/dashboard/export/daily.csv']) {
      const { res } = await browser.get(path)
      expect(res.headers.get('content-security-policy'), path).toBe(DASHBOARD_CSP)
      expect(res.headers.get('x-frame-options')).toBe('DENY')
      expect(res.headers.get('referrer-policy')).toBe('same-origin')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
    expect(DASHBOARD_CSP).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    const asset = await browser.get('/dashboard/assets/dashboard.css')
    expect(asset.res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP)
  })

  it('has no inline scripts or style attributes, and escapes what it shows', async () => {
    const team = await callAs(gw, ADMIN_KEY, 'POST', '/admin/keys', { team: a.team.name, name: '<img src=x onerror=alert(1)>' })
    expect(team.status).toBe(201)
    const browser = await signedIn(gw, a.teamAdmin.key)
    const { body } = await browser.get('/dashboard/team')
    expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(body).not.toContain('<img src=x')
    expect(body).not.toMatch(/\sstyle=/)
    for (const [, attrs] of body.matchAll(/<script([^>]*)>/g)) expect(attrs).toMatch(/ src="\/dashboard\/assets\/|type="application\/json"/)
    const dataScript = /<script type="application\/json" id="dashboard-data">([\s\S]*?)<\/script>/.exec(body)?.[1] ?? ''
    expect(dataScript).not.toContain('<')
    expect(JSON.parse(dataScript)).toMatchObject({ charts: expect.any(Array) })
  })

  it('answers unknown dashboard paths with an HTML 404, and bad query values with a 400 page', async () => {
    const browser = await signedIn(gw, a.teamAdmin.key)
    const missing = await browser.get('/dashboard/nope')
    expect(missing.res.status).toBe(404)
    expect(missing.res.headers.get('content-type')).toContain('text/html')
    for (const [query, message] of [['period=year', 'period must be'], ['period=custom&from=2026-02-31&to=2026-03-01', 'from must be a date'], ['tz=abc', 'tz must be'], ['backend=gpu', 'backend must be local or hosted']] as const) {
      const { res, body } = await browser.get(`/dashboard/team?${query}`)
      expect(res.status, query).toBe(400)
      expect(body).toContain(message)
    }
  })
})

describe('dashboard session secret', () => {
  it('is DASHBOARD_SESSION_SECRET when the operator sets one', async () => {
    const configured = 'operator-chosen-dashboard-secret-0123456789'
    const { app } = createGateway({ db: gw.db, config: parseConfig({ ADMIN_KEY, DASHBOARD_SESSION_SECRET: configured }), usage: gw.writer, cost: hostedCost(priceTableFrom(undefined)), fetch: () => Promise.reject(new Error('no upstream')) })
    const mine = { keyId: a.member.id, teamId: a.team.id, role: 'member' as const }
    const open = (cookie: string) => app.request('http://gateway.test/dashboard/team', { headers: { cookie: `moe_session=${cookie}` } })
    expect((await open(await forge(mine, configured))).status).toBe(200)
    expect((await open(await forge(mine, SECRET))).status).toBe(303)
  })

  it('is made once, kept in gateway_settings, and shared by gateways on the same database', async () => {
    const [one, two] = await Promise.all([startTestGateway(), startTestGateway()])
    try {
      const team = await teamWithRoles(one, 'dash-secret')
      const browser = await signedIn(one, team.member.key)
      const row = await one.db.select().from(gatewaySettings).where(eq(gatewaySettings.name, 'dashboard_session_secret')).get()
      expect(row?.value).toMatch(/^[0-9a-f]{64}$/)
      // The other process accepts the first one's cookie.
      const res = await fetch(`${two.url}/dashboard/team`, { headers: { cookie: `moe_session=${browser.jar.get('moe_session')}` }, redirect: 'manual' })
      expect(res.status).toBe(200)
      await res.text()
    } finally {
      await Promise.all([one.close(), two.close()])
    }
  })
})
