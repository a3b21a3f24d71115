import { Hono, type Context } from 'hono'
import { clearDashboardCookie, readCookie, SESSION_COOKIE, setDashboardCookie, SIGN_IN_COOKIE } from './cookies.js'
import { CSRF_FIELD, isSignInToken, newSignInToken, sessionCsrfMatches, signInTokenMatches } from './csrf.js'
import type { DashboardContext } from './deps.js'
import { signInPage } from './pages/sign-in.js'
import { errorResponse, formText, page } from './responses.js'
import { sealSession, SESSION_TTL_MS } from './session.js'
import { randomToken } from './signer.js'
import { currentViewer, liveActor, sessionBinding, type DashboardEnv, type Viewer } from './viewer.js'

const SIGN_IN_TOKEN_MAX_AGE_SECONDS = 3600
// One line whatever was wrong (unknown, revoked, expired, mistyped): no hint for a guesser.
const BAD_KEY = 'That key did not work. Check it and try again.'

/** The sign-in form's tz (filled by the page script); anything but a real offset is UTC. */
function browserOffset(raw: string | undefined): number {
  const n = Number(raw)
  return Number.isInteger(n) && Math.abs(n) <= 14 * 60 ? n : 0
}

export const homeOf = (viewer: Viewer) => (viewer.reach === 'gateway' ? '/dashboard/admin' : '/dashboard/team')

/**
 * GET /dashboard, the sign-in form and its POST, and sign-out. The key travels once, in the
 * sign-in POST body; from then on the session cookie names the key by id only.
 */
export function signInRoutes(ctx: DashboardContext): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>()

  /** The sign-in form with a double-submit token: the cookie's, if it is still ours, else a new one. */
  async function signInForm(c: Context<DashboardEnv>, status: 200 | 401, error?: string) {
    const signer = await ctx.signer()
    let token = readCookie(c, SIGN_IN_COOKIE)
    if (!(await isSignInToken(signer, token)) || token === undefined) {
      token = await newSignInToken(signer)
      setDashboardCookie(c, SIGN_IN_COOKIE, token, SIGN_IN_TOKEN_MAX_AGE_SECONDS)
    }
    return page(c, signInPage({ csrf: token, error }), status)
  }

  app.get('/', async (c) => {
    const viewer = await currentViewer(c, ctx.sessions)
    return c.redirect(viewer ? homeOf(viewer) : '/dashboard/sign-in', 303)
  })

  app.get('/sign-in', async (c) => {
    const viewer = await currentViewer(c, ctx.sessions)
    if (viewer) return c.redirect(homeOf(viewer), 303)
    return signInForm(c, 200)
  })

  app.post('/sign-in', async (c) => {
    const signer = await ctx.signer()
    const body = await c.req.parseBody()
    if (!(await signInTokenMatches(signer, readCookie(c, SIGN_IN_COOKIE), formText(body, CSRF_FIELD)))) {
      return errorResponse(c, 403, 'The sign-in form expired or was not sent from this page. Open the sign-in page again and retry.')
    }
    const key = await ctx.keys.verify(formText(body, 'api_key')?.trim())
    const nowMs = ctx.now()
    const session = key && { id: randomToken(), keyId: key.id, teamId: key.teamId, role: key.role, issuedAtMs: nowMs, expiresAtMs: nowMs + SESSION_TTL_MS, tzOffsetMin: browserOffset(formText(body, 'tz')) }
    // The verifier may answer from its cache; the database has the last word, as on every later request.
    if (!session || !(await liveActor(ctx.sessions, session, nowMs))) return signInForm(c, 401, BAD_KEY)
    setDashboardCookie(c, SESSION_COOKIE, await sealSession(signer, session, await sessionBinding(ctx.sessions, session.keyId)), SESSION_TTL_MS / 1000)
    clearDashboardCookie(c, SIGN_IN_COOKIE)
    return c.redirect('/dashboard', 303)
  })

  app.post('/sign-out', async (c) => {
    const viewer = await currentViewer(c, ctx.sessions)
    if (viewer) {
      const body = await c.req.parseBody()
      if (!(await sessionCsrfMatches(await ctx.signer(), viewer.session.id, formText(body, CSRF_FIELD)))) {
        return errorResponse(c, 403, 'The sign-out form expired. Reload the page and try again.', viewer)
      }
    }
    // A session that no longer opens (expired, key revoked) has nothing to protect: just clear it.
    clearDashboardCookie(c, SESSION_COOKIE)
    return c.redirect('/dashboard/sign-in', 303)
  })

  return app
}
