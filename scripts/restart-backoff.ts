/** How long to wait before restarting a crashed process, and when a run counts as healthy again. */
export interface RestartBackoff {
  firstDelayMs: number
  maxDelayMs: number
  /** A run that served this long after it was ready starts the delays over. */
  healthyResetMs: number
}

/** 1 s, 2 s, 4 s … 30 s: a process that aborts at load (a CPU it cannot run on) is not restarted in a hot loop. */
export const NODE_HOST_BACKOFF: RestartBackoff = { firstDelayMs: 1000, maxDelayMs: 30_000, healthyResetMs: 60_000 }

/**
 * The wait before the next restart, after `failures` restarts in a row without a healthy run.
 * @example restartDelayMs(NODE_HOST_BACKOFF, 0) // 1000, then 2000, 4000 … 30000
 */
export function restartDelayMs(backoff: RestartBackoff, failures: number): number {
  return Math.min(backoff.maxDelayMs, backoff.firstDelayMs * 2 ** failures)
}

/** Whether a run's time from ready to exit resets the delays (never ready: it does not). */
export function ranHealthy(backoff: RestartBackoff, readyAtMs: number | undefined, exitedAtMs: number): boolean {
  return readyAtMs !== undefined && exitedAtMs - readyAtMs >= backoff.healthyResetMs
}
