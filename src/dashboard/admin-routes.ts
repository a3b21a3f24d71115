import { Hono } from 'hono'
import { adminReport } from './admin-report.js'
import type { DashboardContext } from './deps.js'
import { adminPage } from './pages/admin.js'
import { parsePeriod } from './period.js'
import { errorResponse, page } from './responses.js'
import type { DashboardEnv } from './viewer.js'

/** GET /dashboard/admin: every team and node-host, for gateway admins. Mounted behind requireViewer. */
export function adminPageRoutes(ctx: DashboardContext): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>()
  app.get('/', async (c) => {
    const viewer = c.get('viewer')
    if (viewer.reach !== 'gateway') return errorResponse(c, 403, 'This page is for gateway admins. Your team is on the Team page.', viewer)
    const q = c.req.query()
    // UTC days unless ?tz= asks: every team's day charts then come from daily rollups (a few rows a day).
    const period = parsePeriod({ period: q.period, from: q.from, to: q.to, tz: q.tz }, ctx.now())
    if ('error' in period) return errorResponse(c, 400, period.error, viewer)
    const health = ctx.health()
    const report = await adminReport(ctx.db, { period, hosts: health.local.hosts, nowMs: ctx.now() })
    const params = new URLSearchParams({ period: period.name })
    if (period.name === 'custom') {
      params.set('from', q.from ?? '')
      params.set('to', q.to ?? '')
    }
    if (period.tzOffsetMin !== 0) params.set('tz', String(period.tzOffsetMin))
    return page(c, adminPage({ viewer, report, health, params }))
  })
  return app
}
