import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { CookieOptions } from 'hono/utils/cookie'
import { isHttps } from './origin.js'

/** The signed session (src/dashboard/session.ts). */
export const SESSION_COOKIE = 'moe_session'
/** The sign-in form's double-submit CSRF token (src/dashboard/csrf.ts). */
export const SIGN_IN_COOKIE = 'moe_sign_in'
/** A one-shot notice after a post/redirect/get, as a code from a fixed list (src/dashboard/flash.ts). */
export const FLASH_COOKIE = 'moe_flash'

/** Every dashboard cookie: script can't read it, other sites can't send it, only /dashboard gets it. */
function options(c: Context, maxAgeSeconds: number): CookieOptions {
  return { path: '/dashboard', httpOnly: true, sameSite: 'Strict', secure: isHttps(c), maxAge: maxAgeSeconds }
}

export function setDashboardCookie(c: Context, name: string, value: string, maxAgeSeconds: number): void {
  setCookie(c, name, value, options(c, maxAgeSeconds))
}

export function clearDashboardCookie(c: Context, name: string): void {
  deleteCookie(c, name, options(c, 0))
}

export function readCookie(c: Context, name: string): string | undefined {
  return getCookie(c, name)
}
