import type { UsageRow } from '../db/schema.js'
import type { Logger } from '../log.js'
import type { UsageSink } from './usage-sink.js'

export interface BatchingWriterOptions {
  write: (rows: UsageRow[]) => Promise<void>
  log: Logger
  /** Rows wait at most this long before a write. */
  flushIntervalMs?: number
  maxBatchRows?: number
  /** Retry backoff while the database is unreachable. */
  minRetryMs?: number
  maxRetryMs?: number
}

/**
 * Collects usage rows and writes them in batches off the request path. If a write fails
 * (database down), the rows stay queued and are retried with backoff: none are dropped.
 * Rows have stable ids and inserts ignore duplicates, so a retry after a lost reply is safe.
 */
export class BatchingUsageWriter implements UsageSink {
  private queue: UsageRow[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private writing: Promise<void> | undefined
  private retryMs: number
  private failing = false
  written = 0

  constructor(private readonly opts: BatchingWriterOptions) {
    this.retryMs = opts.minRetryMs ?? 100
  }

  get pendingRows(): number {
    return this.queue.length
  }

  record(row: UsageRow): void {
    this.queue.push(row)
    if (this.queue.length >= (this.opts.maxBatchRows ?? 500)) this.schedule(0)
    else this.schedule(this.opts.flushIntervalMs ?? 100)
  }

  private schedule(delayMs: number): void {
    if (this.writing) return // the running write reschedules itself
    if (this.timer !== undefined) {
      if (delayMs > 0) return
      clearTimeout(this.timer)
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.writeOnce()
    }, delayMs)
  }

  private writeOnce(): Promise<void> {
    if (this.writing) return this.writing
    const batch = this.queue.splice(0, this.opts.maxBatchRows ?? 500)
    if (batch.length === 0) return Promise.resolve()
    this.writing = this.opts
      .write(batch)
      .then(() => {
        this.written += batch.length
        if (this.failing) this.opts.log.info('usage writes recovered', { pendingRows: this.queue.length })
        this.failing = false
        this.retryMs = this.opts.minRetryMs ?? 100
      })
      .catch((err: unknown) => {
        this.queue.unshift(...batch)
        if (!this.failing) this.opts.log.error('usage write failed; rows kept for retry', { error: errorName(err), pendingRows: this.queue.length })
        this.failing = true
      })
      .finally(() => {
        this.writing = undefined
        if (this.queue.length === 0) return
        const delay = this.failing ? this.retryMs : 0
        if (this.failing) this.retryMs = Math.min(this.retryMs * 2, this.opts.maxRetryMs ?? 5_000)
        this.schedule(delay)
      })
    return this.writing
  }

  /** Writes everything queued, retrying until done or until `timeoutMs` passes. Returns rows left unwritten. */
  async flush(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs
    while ((this.queue.length > 0 || this.writing) && Date.now() < deadline) {
      if (this.timer !== undefined) {
        clearTimeout(this.timer)
        this.timer = undefined
      }
      await (this.writing ?? this.writeOnce())
      if (this.failing && this.queue.length > 0) await new Promise((r) => setTimeout(r, Math.min(this.retryMs, Math.max(0, deadline - Date.now()))))
    }
    return this.queue.length
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : 'unknown error'
}
