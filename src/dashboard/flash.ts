import type { Context } from 'hono'
import { BACKEND_MODES, type BackendMode } from '../db/schema.js'
import { clearDashboardCookie, FLASH_COOKIE, readCookie, setDashboardCookie } from './cookies.js'

/*
 * One-shot notices after a POST (post/redirect/get). The cookie holds a code, and only codes
 * listed here become text: a cookie planted by a sibling site can't put words on the page.
 */

export type Flash = { kind: 'backend-mode'; mode: BackendMode }

const FLASH_MAX_AGE_SECONDS = 60

export function setFlash(c: Context, flash: Flash): void {
  setDashboardCookie(c, FLASH_COOKIE, `${flash.kind}:${flash.mode}`, FLASH_MAX_AGE_SECONDS)
}

/** The pending notice as text, cleared so a reload doesn't show it again. */
export function takeFlash(c: Context): string | undefined {
  const code = readCookie(c, FLASH_COOKIE)
  if (code === undefined) return undefined
  clearDashboardCookie(c, FLASH_COOKIE)
  const [kind, mode] = code.split(':')
  if (kind === 'backend-mode' && (BACKEND_MODES as readonly string[]).includes(mode ?? '')) return `Backend mode set to ${mode}. New requests of this team are routed by it.`
  return undefined
}
