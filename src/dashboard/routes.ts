import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { sha256Hex } from '../signing.js'
import { adminPageRoutes } from './admin-routes.js'
import { serveDashboardAssets } from './assets.js'
import { sameOriginWrites } from './csrf.js'
import type { DashboardContext, DashboardDeps } from './deps.js'
import { exportRoutes } from './export-routes.js'
import { errorResponse } from './responses.js'
import { securityHeaders } from './security-headers.js'
import { dashboardSecret } from './session-secret.js'
import { signInRoutes } from './sign-in-routes.js'
import { lazySigner } from './signer.js'
import { teamRoutes } from './team-routes.js'
import { requireViewer, type DashboardEnv } from './viewer.js'

export type { DashboardDeps } from './deps.js'

/** Dashboard forms are a few short fields; anything bigger is not one of them. */
const MAX_FORM_BYTES = 16 * 1024

/**
 * The usage dashboard as a Hono sub-app: HTML pages, CSV exports and their assets, signed-in by
 * session cookie (never by bearer key), the same on Node and Workers.
 * @example app.route('/dashboard', dashboardRoutes({ db, keys, health, defaultMode, now, log }))
 */
export function dashboardRoutes(deps: DashboardDeps): Hono<DashboardEnv> {
  const signer = lazySigner(() => dashboardSecret(deps.db, deps.sessionSecret))
  const ctx: DashboardContext = {
    ...deps,
    signer,
    sessions: { db: deps.db, signer, adminKeyHash: deps.adminKey ? sha256Hex(deps.adminKey) : Promise.resolve(undefined), now: deps.now },
  }
  const app = new Hono<DashboardEnv>()
  const signedIn = requireViewer(ctx.sessions, (c) => c.redirect('/dashboard/sign-in', 303))

  app.use('*', securityHeaders())
  app.use('*', sameOriginWrites((c) => errorResponse(c, 403, 'This form was not sent from the dashboard itself. Open the dashboard and submit it from there.')))
  app.use('*', bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => errorResponse(c, 413, 'That form is too large.') }))

  app.get('/assets/:name', serveDashboardAssets<DashboardEnv>())
  app.route('/', signInRoutes(ctx))
  app.use('/team', signedIn)
  app.use('/team/*', signedIn)
  app.route('/team', teamRoutes(ctx))
  app.use('/admin', signedIn)
  app.route('/admin', adminPageRoutes(ctx))
  app.use('/export/*', signedIn)
  app.route('/export', exportRoutes(ctx))

  // The gateway's own notFound answers OpenAI JSON; under /dashboard a person is reading.
  app.all('*', (c) => errorResponse(c, 404, `There is no dashboard page at ${new URL(c.req.url).pathname}.`))
  app.onError((err, c) => {
    deps.log.error('dashboard error', { requestId: c.get('requestId'), error: err.name })
    return errorResponse(c, 500, `Something went wrong on our side (request ${c.get('requestId')}). Try again; if it persists, tell the gateway operator this request id.`)
  })
  return app
}
