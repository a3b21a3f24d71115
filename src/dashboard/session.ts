import { KEY_ROLES, type KeyRole } from '../db/schema.js'
import { base64UrlDecode, base64UrlEncode } from '../base64url.js'
import type { Signer } from './signer.js'

/** What a dashboard session cookie says: who signed in, never the key itself. */
export interface Session {
  /** Random per sign-in; CSRF tokens of signed-in forms are tags of it. */
  id: string
  keyId: string
  teamId: string | null
  role: KeyRole
  issuedAtMs: number
  expiresAtMs: number
  /** The browser's offset at sign-in (minutes east of UTC): pages without ?tz= use it. */
  tzOffsetMin?: number
}

export const SESSION_TTL_MS = 12 * 3_600_000
const MAX_TOKEN_LENGTH = 1024
// A session "issued" further ahead than this is from a clock we don't trust.
const MAX_CLOCK_SKEW_MS = 60_000

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false
  const s = value as Record<string, unknown>
  return typeof s.id === 'string' && typeof s.keyId === 'string' && (s.teamId === null || typeof s.teamId === 'string') &&
    (KEY_ROLES as readonly unknown[]).includes(s.role) && Number.isSafeInteger(s.issuedAtMs) && Number.isSafeInteger(s.expiresAtMs) &&
    (s.tzOffsetMin === undefined || (Number.isInteger(s.tzOffsetMin) && Math.abs(s.tzOffsetMin as number) <= 14 * 60))
}

/**
 * The cookie value of a session: base64url(JSON).tag. `binding` is signed along without being in
 * the cookie; the ADMIN_KEY's sessions pass its hash, so changing ADMIN_KEY ends them.
 * @example setCookie(c, SESSION_COOKIE, await sealSession(signer, session), cookieOptions)
 */
export async function sealSession(signer: Signer, session: Session, binding = ''): Promise<string> {
  const payload = base64UrlEncode(encoder.encode(JSON.stringify(session)))
  return `${payload}.${await signer.tag('session', `${payload}\n${binding}`)}`
}

/**
 * The session in a cookie value when its tag is right and it has not expired; undefined otherwise.
 * Whether its key is still live is the caller's check (src/dashboard/viewer.ts).
 */
export async function openSession(signer: Signer, token: string | undefined, nowMs: number, bindingFor: (keyId: string) => Promise<string>): Promise<Session | undefined> {
  if (!token || token.length > MAX_TOKEN_LENGTH) return undefined
  const [payload, tag, extra] = token.split('.')
  if (payload === undefined || tag === undefined || extra !== undefined) return undefined
  const bytes = base64UrlDecode(payload)
  if (!bytes) return undefined
  let session: unknown
  try {
    session = JSON.parse(decoder.decode(bytes))
  } catch {
    return undefined
  }
  if (!isSession(session)) return undefined
  if (!(await signer.verify('session', `${payload}\n${await bindingFor(session.keyId)}`, tag))) return undefined
  if (session.expiresAtMs <= nowMs || session.issuedAtMs > nowMs + MAX_CLOCK_SKEW_MS) return undefined
  return session
}
