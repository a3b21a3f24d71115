import type { Context, MiddlewareHandler } from 'hono'
import { constantTimeEqual } from '../auth/constant-time.js'
import { ownOrigin, requestOrigin } from './origin.js'
import { randomToken, type Signer } from './signer.js'

/** The hidden input every dashboard POST form carries. */
export const CSRF_FIELD = 'csrf'

/**
 * The sign-in form's token, before there is a session: random, tagged so a cookie planted by a
 * sibling subdomain cannot be one. The same value goes in a cookie and the form (double submit).
 */
export async function newSignInToken(signer: Signer): Promise<string> {
  const nonce = randomToken(24)
  return `${nonce}.${await signer.tag('sign-in', nonce)}`
}

/** Whether a sign-in cookie token is ours (to reuse it on the next form). */
export async function isSignInToken(signer: Signer, token: string | undefined): Promise<boolean> {
  const [nonce, tag, extra] = (token ?? '').split('.')
  return nonce !== undefined && nonce !== '' && tag !== undefined && extra === undefined && signer.verify('sign-in', nonce, tag)
}

/** The posted token matches the cookie's, and the cookie's is ours. */
export async function signInTokenMatches(signer: Signer, cookie: string | undefined, posted: string | undefined): Promise<boolean> {
  if (!cookie || !posted || !constantTimeEqual(cookie, posted)) return false
  return isSignInToken(signer, cookie)
}

/** The token of a signed-in session's forms: a tag of the session id, so it dies with the session. */
export function sessionCsrfToken(signer: Signer, sessionId: string): Promise<string> {
  return signer.tag('csrf', sessionId)
}

export function sessionCsrfMatches(signer: Signer, sessionId: string, posted: string | undefined): Promise<boolean> {
  return posted ? signer.verify('csrf', sessionId, posted) : Promise.resolve(false)
}

/**
 * Refuses state-changing requests whose Origin (or, without one, Referer) is not the gateway's
 * own, or that name neither: browsers send Origin on every form POST. Tokens are checked as well.
 * @example app.use('*', sameOriginWrites((c) => errorPage(c, 403, '...')))
 */
export function sameOriginWrites(reject: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    if (requestOrigin(c) !== ownOrigin(c)) return reject(c)
    await next()
  }
}
