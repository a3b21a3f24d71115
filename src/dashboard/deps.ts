import type { AdminHealthBody } from '../admin/health.js'
import type { KeyVerifier } from '../auth/key-verifier.js'
import type { GatewayDb } from '../db/client.js'
import type { BackendMode } from '../db/schema.js'
import type { Logger } from '../log.js'
import type { Signer } from './signer.js'
import type { SessionCheckDeps } from './viewer.js'

/** What the gateway hands the dashboard (src/app.ts). */
export interface DashboardDeps {
  db: GatewayDb
  /** Verifies keys at sign-in; forgets a team's cached keys after its mode changes. */
  keys: KeyVerifier
  /** Each backend's state as this process sees it (src/admin/health.ts). */
  health: () => AdminHealthBody
  /** DEFAULT_BACKEND: a team without a mode of its own is routed by it. */
  defaultMode: BackendMode
  /** The operator's ADMIN_KEY, whose sessions end when it changes. */
  adminKey?: string
  /** DASHBOARD_SESSION_SECRET; without it, a random secret kept in gateway_settings. */
  sessionSecret?: string
  now: () => number
  log: Logger
}

/** The deps and what the dashboard derives from them once. */
export interface DashboardContext extends DashboardDeps {
  signer: () => Promise<Signer>
  sessions: SessionCheckDeps
}
