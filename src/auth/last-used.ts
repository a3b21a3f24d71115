import type { Logger } from '../log.js'

// Keys whose last write is remembered; beyond this the oldest is forgotten (it may be written once more).
const MAX_TRACKED_KEYS = 10_000
const DEFAULT_INTERVAL_MS = 60_000

/**
 * Keeps `api_keys.last_used_at` roughly current at most one write per key per minute
 * (per process), so a busy key does not turn every request into a database write.
 * @example const pending = lastUsed.touch(key.id); if (pending) ctx.waitUntil(pending)
 */
export class LastUsedTracker {
  private readonly writtenAtMs = new Map<string, number>()

  constructor(
    private readonly opts: {
      write: (keyId: string, atMs: number) => Promise<void>
      log: Logger
      now: () => number
      intervalMs?: number
    },
  ) {}

  /** Starts a write when one is due and returns it (already guarded: it never rejects); else undefined. */
  touch(keyId: string): Promise<void> | undefined {
    const nowMs = this.opts.now()
    const last = this.writtenAtMs.get(keyId)
    if (last !== undefined && nowMs - last < (this.opts.intervalMs ?? DEFAULT_INTERVAL_MS)) return undefined
    // Re-inserted so the map's order is oldest write first.
    this.writtenAtMs.delete(keyId)
    this.writtenAtMs.set(keyId, nowMs)
    if (this.writtenAtMs.size > MAX_TRACKED_KEYS) {
      const oldest = this.writtenAtMs.keys().next().value
      if (oldest !== undefined) this.writtenAtMs.delete(oldest)
    }
    return this.opts.write(keyId, nowMs).catch((err: unknown) => {
      // Allow a retry on the next request instead of waiting out the interval.
      if (this.writtenAtMs.get(keyId) === nowMs) this.writtenAtMs.delete(keyId)
      this.opts.log.error('last_used_at write failed', { keyId, error: err instanceof Error ? err.name : 'unknown' })
    })
  }
}
