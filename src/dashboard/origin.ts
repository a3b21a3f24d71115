import type { Context } from 'hono'

/**
 * Whether the browser reached the gateway over HTTPS: the request URL says so (Workers), or a
 * TLS-terminating proxy in front of Node said so in x-forwarded-proto. Trusting the header is
 * safe for what it decides here (cookie Secure flag, expected Origin): a cross-site form cannot
 * set request headers, and a Secure cookie set over plain HTTP is simply dropped by the browser.
 */
export function isHttps(c: Context): boolean {
  const forwarded = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
  if (forwarded === 'https' || forwarded === 'http') return forwarded === 'https'
  return new URL(c.req.url).protocol === 'https:'
}

/** The gateway's own origin as the browser sees it, e.g. `https://gateway.example`. */
export function ownOrigin(c: Context): string {
  return `${isHttps(c) ? 'https' : 'http'}://${new URL(c.req.url).host}`
}

/** Where a request came from: its Origin header, else its Referer's origin; undefined when neither says. */
export function requestOrigin(c: Context): string | undefined {
  const origin = c.req.header('origin')
  if (origin) return origin
  const referer = c.req.header('referer')
  if (!referer) return undefined
  try {
    return new URL(referer).origin
  } catch {
    return undefined
  }
}
