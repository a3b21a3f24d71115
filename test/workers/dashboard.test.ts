/**
 * The dashboard in real workerd: sign in with a key, read the team page and an export, sign out.
 * Same Worker and bindings as gateway.test.ts; the request URL is https, as on Cloudflare.
 */
import { describe, expect, it } from 'vitest'
import { WORKER_ADMIN_KEY } from './constants.js'
import { jsonRequest, teamWithKey, usageRow, workerFetch } from './support.js'

const ORIGIN = 'https://gateway.test'

/** A cookie jar and form posts over the Worker's fetch, as a browser on ORIGIN would send them. */
class Browser {
  private readonly jar = new Map<string, string>()
  readonly setCookies: string[] = []

  async fetch(path: string, init: RequestInit = {}): Promise<{ res: Response; body: string }> {
    const headers = new Headers(init.headers)
    if (this.jar.size > 0) headers.set('cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '))
    const res = await workerFetch(path, { ...init, headers, redirect: 'manual' })
    // workerd's Headers has getAll for Set-Cookie (each cookie apart; a joined header would split on dates).
    for (const raw of res.headers.getAll('set-cookie')) {
      this.setCookies.push(raw)
      const [pair = ''] = raw.split(';')
      const [name = '', value = ''] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]
      if (/max-age=0/i.test(raw) || value === '') this.jar.delete(name)
      else this.jar.set(name, value)
    }
    return { res, body: await res.text() }
  }

  post(path: string, fields: Record<string, string>) {
    return this.fetch(path, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() })
  }

  has(name: string) {
    return this.jar.has(name)
  }
}

const csrfOf = (html: string) => /<input type="hidden" name="csrf" value="([^"]*)">/.exec(html)?.[1] ?? ''
const testValue = (html: string, testid: string) => new RegExp(`data-testid="${testid}" data-value="([^"]*)"`).exec(html)?.[1]

async function signIn(key: string): Promise<Browser> {
  const browser = new Browser()
  const form = await browser.fetch('/dashboard/sign-in')
  expect(form.res.status).toBe(200)
  const { res } = await browser.post('/dashboard/sign-in', { api_key: key, csrf: csrfOf(form.body) })
  expect(res.status).toBe(303)
  return browser
}

describe('Worker: dashboard', () => {
  it('signs a member in and shows its usage on the team page and in the CSV export', async () => {
    const { key, teamId } = await teamWithKey('hosted')
    const chat = await workerFetch('/v1/chat/completions', jsonRequest(key, 'POST', { model: 'deepseek-flash', messages: [{ role: 'user', content: 'for the dashboard' }] }))
    expect(chat.status).toBe(200)
    const requestId = chat.headers.get('x-request-id') ?? ''
    await chat.text()
    const row = await usageRow(requestId)

    const browser = await signIn(key)
    const session = browser.setCookies.find((c) => c.startsWith('moe_session='))
    // https: the cookie is Secure as well.
    expect(session).toMatch(/; Path=\/dashboard/)
    expect(session).toMatch(/; HttpOnly/)
    expect(session).toMatch(/; Secure/)
    expect(session).toMatch(/; SameSite=Strict/)
    expect(session).not.toContain(key)

    const { res, body } = await browser.fetch('/dashboard/team')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(testValue(body, 'team-name')).toBe(teamId)
    expect(testValue(body, 'total-requests')).toBe('1')
    expect(testValue(body, 'total-prompt-tokens')).toBe(String(row.promptTokens))
    expect(testValue(body, 'hosted-cost')).toBe(String(row.costNanoUsd))
    expect(body).toContain(requestId)
    expect(body).not.toContain(key)

    const csv = await browser.fetch('/dashboard/export/usage.csv')
    expect(csv.res.status).toBe(200)
    expect(csv.res.headers.get('content-disposition')).toMatch(/^attachment;/)
    expect(csv.body.split('\r\n').filter((l) => l.startsWith(requestId))).toHaveLength(1)

    const out = await browser.post('/dashboard/sign-out', { csrf: csrfOf(body) })
    expect(out.res.status).toBe(303)
    expect(browser.has('moe_session')).toBe(false)
    expect((await browser.fetch('/dashboard/team')).res.status).toBe(303)
  })

  it('signs the bound ADMIN_KEY in to the admin page, and refuses a bad key with 401', async () => {
    const admin = await signIn(WORKER_ADMIN_KEY)
    const home = await admin.fetch('/dashboard')
    expect(home.res.headers.get('location')).toBe('/dashboard/admin')
    const page = await admin.fetch('/dashboard/admin')
    expect(page.res.status).toBe(200)
    expect(page.body).toContain('data-testid="teams"')

    const stranger = new Browser()
    const form = await stranger.fetch('/dashboard/sign-in')
    const bad = await stranger.post('/dashboard/sign-in', { api_key: 'mgw_not_a_real_key_00000000000000000000', csrf: csrfOf(form.body) })
    expect(bad.res.status).toBe(401)
    expect(stranger.has('moe_session')).toBe(false)
  })

  it('refuses a POST from another origin', async () => {
    const browser = new Browser()
    const form = await browser.fetch('/dashboard/sign-in')
    const res = await workerFetch('/dashboard/sign-in', { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ api_key: WORKER_ADMIN_KEY, csrf: csrfOf(form.body) }).toString() })
    expect(res.status).toBe(403)
    await res.text()
  })
})
