/**
 * The dashboard's pages, requested in-process through the gateway's own Hono app
 * (`app.request`, no socket), signed in once per key through the real sign-in form.
 */
import { createHash } from 'node:crypto'
import { inArray } from 'drizzle-orm'
import { createGateway } from '../../src/app.js'
import { parseConfig } from '../../src/config.js'
import type { GatewayDb } from '../../src/db/client.js'
import { insertKey } from '../../src/db/keys.js'
import { apiKeys } from '../../src/db/schema.js'
import { hostedCost, priceTableFrom } from '../../src/metering/cost.js'

const ORIGIN = 'http://bench.local'
const ADMIN_KEY = 'mgw_bench_admin_key_dashboard_0123456789'

export interface DashboardClient {
  /** A signed-in GET: status and the whole body. */
  get(cookie: string, path: string): Promise<{ status: number; body: string }>
  /** A signed-in GET that stops at the response headers and the first body chunk. */
  firstChunk(cookie: string, path: string): Promise<{ status: number; bytes: number }>
  /** Signs in through GET + POST /dashboard/sign-in; the session cookie. */
  signIn(key: string): Promise<string>
  /** A team-admin key of `teamId`, removed again by close(). */
  teamAdminKey(teamId: string): Promise<string>
  adminKey: string
  close(): Promise<void>
}

/** Cookies a response sets, as `name=value` pairs. */
const setCookies = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]!)

/** The gateway app over `db`, its clock fixed at `nowMs` (the generated history ends then). */
export function dashboardClient(db: GatewayDb, nowMs: number): DashboardClient {
  const config = parseConfig({ ADMIN_KEY, DEFAULT_BACKEND: 'local-first' })
  const { app } = createGateway({
    db,
    config,
    usage: { record: () => {} },
    cost: hostedCost(priceTableFrom(undefined)),
    fetch: () => Promise.reject(new Error('the dashboard benchmark makes no upstream calls')),
    now: () => nowMs,
    hashKey: (key) => createHash('sha256').update(key).digest('hex'),
  })
  const request = (path: string, init: RequestInit = {}) => app.request(`${ORIGIN}${path}`, init)
  const createdKeyIds: string[] = []

  return {
    adminKey: ADMIN_KEY,
    async get(cookie, path) {
      const res = await request(path, { headers: { cookie } })
      return { status: res.status, body: await res.text() }
    },
    async firstChunk(cookie, path) {
      const res = await request(path, { headers: { cookie } })
      const reader = res.body?.getReader()
      const first = await reader?.read()
      await reader?.cancel()
      return { status: res.status, bytes: first?.value?.byteLength ?? 0 }
    },
    async signIn(key) {
      const form = await request('/dashboard/sign-in')
      const csrf = /<input type="hidden" name="csrf" value="([^"]*)">/.exec(await form.text())?.[1]
      if (!csrf) throw new Error(`the sign-in page (${form.status}) has no csrf input`)
      const res = await request('/dashboard/sign-in', {
        method: 'POST',
        headers: { origin: ORIGIN, cookie: setCookies(form).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ api_key: key, csrf }).toString(),
      })
      const session = setCookies(res).find((c) => c.startsWith('moe_session='))
      if (res.status !== 303 || !session) throw new Error(`sign-in answered ${res.status} without a session cookie`)
      return session
    },
    async teamAdminKey(teamId) {
      const { row, key } = await insertKey(db, { teamId, name: 'dashboard-bench', role: 'team-admin' })
      createdKeyIds.push(row.id)
      return key
    },
    async close() {
      if (createdKeyIds.length > 0) await db.delete(apiKeys).where(inArray(apiKeys.id, createdKeyIds))
    },
  }
}
