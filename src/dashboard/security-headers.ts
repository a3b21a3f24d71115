import type { MiddlewareHandler } from 'hono'

/** Scripts and styles from /dashboard/assets only: no inline script, no style attributes, no framing. */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/**
 * Sets the dashboard's security headers on every response under it, errors included. Pages are
 * never cached (they carry a team's numbers and a CSRF token); assets keep their own cache-control.
 * @example app.use('*', securityHeaders())
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next()
    const headers = c.res.headers
    headers.set('content-security-policy', DASHBOARD_CSP)
    headers.set('x-frame-options', 'DENY')
    headers.set('referrer-policy', 'same-origin')
    headers.set('x-content-type-options', 'nosniff')
    if (!headers.has('cache-control')) headers.set('cache-control', 'no-store')
  }
}
