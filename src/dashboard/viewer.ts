import type { Context, MiddlewareHandler } from 'hono'
import { OPERATOR_ADMIN_KEY_ID } from '../auth/key-verifier.js'
import { administeredTeamId, isGatewayAdmin, type Actor } from '../auth/roles.js'
import type { GatewayDb } from '../db/client.js'
import { findKeyById } from '../db/keys.js'
import type { GatewayEnv } from '../env.js'
import type { BackendName } from '../routing/plan.js'
import { clearDashboardCookie, readCookie, SESSION_COOKIE } from './cookies.js'
import { sessionCsrfToken } from './csrf.js'
import { openSession, type Session } from './session.js'
import type { Signer } from './signer.js'

/** Who is looking at the dashboard, checked against the database on this request. */
export interface Viewer {
  session: Session
  /** As admin operations take it (setTeamRouting audits under this key id). */
  actor: Actor
  keyName: string
  /** What the viewer may see: every team, its own team, or its own key's usage. */
  reach: 'gateway' | 'team' | 'key'
  /** The CSRF token for this session's forms. */
  csrf: string
}

export interface DashboardEnv {
  Variables: GatewayEnv['Variables'] & { viewer: Viewer }
}

export interface SessionCheckDeps {
  db: GatewayDb
  signer: () => Promise<Signer>
  /** SHA-256 of ADMIN_KEY when set: its sessions are bound to it. */
  adminKeyHash: Promise<string | undefined>
  now: () => number
}

/** What ADMIN_KEY sessions are signed along with (src/dashboard/session.ts); '' for database keys. */
export async function sessionBinding(deps: Pick<SessionCheckDeps, 'adminKeyHash'>, keyId: string): Promise<string> {
  return keyId === OPERATOR_ADMIN_KEY_ID ? ((await deps.adminKeyHash) ?? 'no-admin-key') : ''
}

/**
 * The session's key as it is now: a revoked, expired or deleted key (or an unset ADMIN_KEY) ends
 * its sessions on their next request, not after a cache TTL.
 */
export async function liveActor(deps: SessionCheckDeps, session: Session, nowMs: number): Promise<{ actor: Actor; keyName: string } | undefined> {
  if (session.keyId === OPERATOR_ADMIN_KEY_ID) {
    if ((await deps.adminKeyHash) === undefined) return undefined
    return { actor: { id: OPERATOR_ADMIN_KEY_ID, role: 'admin', teamId: null, allowedModels: null, allowedBackends: null }, keyName: 'ADMIN_KEY' }
  }
  const row = await findKeyById(deps.db, session.keyId)
  if (!row || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= nowMs)) return undefined
  if (row.teamId !== session.teamId || row.role !== session.role) return undefined
  return { actor: { id: row.id, role: row.role, teamId: row.teamId, allowedModels: row.allowedModels ?? null, allowedBackends: (row.allowedBackends as BackendName[] | null) ?? null }, keyName: row.name }
}

function reachOf(actor: Actor): Viewer['reach'] {
  if (isGatewayAdmin(actor)) return 'gateway'
  return administeredTeamId(actor) !== undefined ? 'team' : 'key'
}

/** The signed-in viewer of this request, or undefined (no cookie, bad tag, expired, key no longer live). */
export async function currentViewer(c: Context, deps: SessionCheckDeps): Promise<Viewer | undefined> {
  const nowMs = deps.now()
  const signer = await deps.signer()
  const session = await openSession(signer, readCookie(c, SESSION_COOKIE), nowMs, (keyId) => sessionBinding(deps, keyId))
  if (!session) return undefined
  const live = await liveActor(deps, session, nowMs)
  if (!live) return undefined
  return { session, ...live, reach: reachOf(live.actor), csrf: await sessionCsrfToken(signer, session.id) }
}

/**
 * Lets signed-in viewers through with `c.var.viewer`; others get `signedOut` (a redirect to the
 * sign-in page), and a cookie that no longer opens a session is cleared.
 * @example app.use('/team/*', requireViewer(deps, (c) => c.redirect('/dashboard/sign-in', 303)))
 */
export function requireViewer(deps: SessionCheckDeps, signedOut: (c: Context<DashboardEnv>) => Response | Promise<Response>): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const viewer = await currentViewer(c, deps)
    if (!viewer) {
      if (readCookie(c, SESSION_COOKIE) !== undefined) clearDashboardCookie(c, SESSION_COOKIE)
      return signedOut(c)
    }
    c.set('viewer', viewer)
    await next()
  }
}
