import { backendState } from '../db/schema.js'
import type { GatewayDb } from '../db/client.js'
import type { BreakerState } from './breaker.js'
import type { SharedHostState } from './host-state.js'

/** Where gateway processes share host state; the pool works without one (in-process only). */
export interface HostStateStore {
  load(): Promise<SharedHostState[]>
  save(state: SharedHostState): Promise<void>
}

/** The `backend_state` table; `host` is the pool's record key (name and URL, see pool.ts). */
export function dbHostStateStore(db: GatewayDb): HostStateStore {
  return {
    async load() {
      const rows = await db.select().from(backendState).all()
      return rows.map((r) => ({ host: r.host, state: r.breakerState as BreakerState, openUntil: r.openUntil, retryAfterUntil: r.retryAfterUntil, lastError: r.lastError, updatedAt: r.updatedAt }))
    },
    async save(s) {
      const row = { host: s.host, breakerState: s.state, openUntil: s.openUntil, retryAfterUntil: s.retryAfterUntil, lastError: s.lastError, updatedAt: s.updatedAt }
      await db.insert(backendState).values(row).onConflictDoUpdate({ target: backendState.host, set: row })
    },
  }
}
