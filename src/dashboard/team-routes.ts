import { Hono } from 'hono'
import { setTeamRouting } from '../admin/teams.js'
import { listTeams } from '../db/teams.js'
import { CSRF_FIELD, sessionCsrfMatches } from './csrf.js'
import type { DashboardContext } from './deps.js'
import { setFlash, takeFlash } from './flash.js'
import { teamPage } from './pages/team.js'
import { teamPickerPage } from './pages/team-picker.js'
import { errorResponse, formText, page } from './responses.js'
import { teamReport } from './team-report.js'
import { resolveTeamView } from './view-scope.js'
import type { DashboardEnv } from './viewer.js'

const RECENT_REQUESTS = 50

/**
 * GET /dashboard/team (a team's usage, as far as the viewer reaches) and the backend-mode switch.
 * Mounted behind requireViewer.
 */
export function teamRoutes(ctx: DashboardContext): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>()

  app.get('/', async (c) => {
    const viewer = c.get('viewer')
    const resolved = await resolveTeamView(ctx.db, viewer, c.req.query(), ctx.now())
    if (!resolved.ok && resolved.status === 'pick-team') {
      const params = new URLSearchParams(c.req.query())
      params.delete('team')
      return page(c, teamPickerPage(viewer, await listTeams(ctx.db), params))
    }
    if (!resolved.ok) return errorResponse(c, resolved.status, resolved.message, viewer)
    const { view } = resolved
    const report = await teamReport(ctx.db, { teamId: view.team.id, period: view.period, filter: view.filter, recentLimit: RECENT_REQUESTS, defaultMode: ctx.defaultMode, nowMs: ctx.now() })
    if (!report) return errorResponse(c, 404, 'There is no such team, or it is not yours to see.', viewer)
    return page(
      c,
      teamPage({
        viewer,
        report,
        view,
        teams: viewer.reach === 'gateway' ? await listTeams(ctx.db) : undefined,
        health: viewer.reach === 'key' ? undefined : ctx.health(),
        flash: takeFlash(c),
      }),
    )
  })

  app.post('/backend-mode', async (c) => {
    const viewer = c.get('viewer')
    const body = await c.req.parseBody()
    if (!(await sessionCsrfMatches(await ctx.signer(), viewer.session.id, formText(body, CSRF_FIELD)))) {
      return errorResponse(c, 403, 'This form expired or was not sent from the dashboard. Reload the page and try again.', viewer)
    }
    if (viewer.reach === 'key') return errorResponse(c, 403, "Only a team-admin or admin key can change a team's backend mode.", viewer)
    const team = formText(body, 'team') ?? viewer.actor.teamId ?? ''
    // The admin operation scopes (another team is a 404), validates and audits.
    const result = await setTeamRouting(ctx.db, viewer.actor, team, { backend_mode: formText(body, 'backend_mode') })
    if (!result.ok) return errorResponse(c, result.status, result.message, viewer)
    // This process routes the team's next request by the new mode; others within the key cache TTL.
    ctx.keys.forget({ teamId: result.value.id })
    if (result.value.backend_mode !== null) setFlash(c, { kind: 'backend-mode', mode: result.value.backend_mode })
    return c.redirect(viewer.reach === 'gateway' ? `/dashboard/team?team=${encodeURIComponent(result.value.id)}` : '/dashboard/team', 303)
  })

  return app
}
