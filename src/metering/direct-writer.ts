import type { UsageRow } from '../db/schema.js'
import type { Logger } from '../log.js'
import type { UsageSink, WaitUntil } from './usage-sink.js'

/**
 * For Workers: each row is written inside `ctx.waitUntil`, after the response, retried with
 * backoff while the database is unreachable. An isolate cannot hold rows beyond its
 * waitUntil budget (30 s after the response), so rows still unwritten then are logged by id.
 */
export function createDirectUsageWriter(opts: { write: (rows: UsageRow[]) => Promise<void>; log: Logger; retryDelaysMs?: number[] }): UsageSink {
  const delays = opts.retryDelaysMs ?? [100, 400, 1_500, 4_000, 10_000]
  async function writeWithRetry(row: UsageRow): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await opts.write([row])
        return
      } catch (err) {
        const delay = delays[attempt]
        if (delay === undefined) {
          opts.log.error('usage row not written after retries', { rowId: row.id, error: err instanceof Error ? err.message.slice(0, 200) : 'unknown' })
          return
        }
        await new Promise((r) => setTimeout(r, delay))
      }
    }
  }
  return {
    needsWaitUntil: true,
    record(row: UsageRow, waitUntil?: WaitUntil) {
      const done = writeWithRetry(row)
      if (waitUntil) waitUntil(done)
    },
  }
}
