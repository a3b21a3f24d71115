import type { Logger } from '../log.js'
import type { GatewayDb } from './client.js'
import { deleteUsageBefore } from './retention.js'

const DAY_MS = 86_400_000
/** Rows one run deletes at most; a backlog (first run on an old database) drains over several runs. */
const MAX_ROWS_PER_RUN = 500_000

/**
 * One retention pass: raw usage rows older than `days` go (their rollups stay). Run hourly by
 * the Node entry and by the Worker's cron trigger; safe to run from several processes at once.
 */
export async function pruneUsage(deps: { db: GatewayDb; days: number | null; now: () => number; log: Logger }): Promise<number> {
  if (deps.days === null) return 0
  const cutoffMs = deps.now() - deps.days * DAY_MS
  try {
    const { deleted, complete } = await deleteUsageBefore(deps.db, cutoffMs, { maxRows: MAX_ROWS_PER_RUN })
    if (deleted > 0) deps.log.info('usage retention', { deleted, complete, cutoff: new Date(cutoffMs).toISOString() })
    return deleted
  } catch (err) {
    // Retention failing must never take the gateway down; the next run tries again.
    deps.log.warn('usage retention failed', { error: err instanceof Error ? err.name : 'unknown' })
    return 0
  }
}
