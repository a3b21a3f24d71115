import type { UsageRow } from '../db/schema.js'
import type { Logger } from '../log.js'
import type { UsageSink } from './usage-sink.js'

export interface BatchingWriterOptions {
  write: (rows: UsageRow[]) => Promise<void>
  log: Logger
  /** Rows wait at most this long before a write. */
  flushIntervalMs?: number
  maxBatchRows?: number
  /** Answers when the database is reachable (e.g. `select 1`); without it no row is ever set aside. */
  probe?: () => Promise<unknown>
  /** Retry backoff while the database is unreachable. */
  minRetryMs?: number
  maxRetryMs?: number
}

// A row refused alone this many times while the database answered a probe is not the database's fault.
const POISON_FAILURES = 3

/**
 * Collects usage rows and writes them in batches off the request path. If a write fails
 * (database down), the rows stay queued and are retried with backoff: none are dropped.
 * Rows have stable ids and inserts ignore duplicates, so a retry after a lost reply is safe.
 * A failing batch is halved on each retry, so one row the database refuses cannot hold the
 * others back; a row refused on its own while the database answers `probe` is set aside
 * (kept in `quarantined`, logged by id) instead of blocking every row after it.
 */
export class BatchingUsageWriter implements UsageSink {
  private queue: UsageRow[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private writing: Promise<void> | undefined
  private retryMs: number
  private failing = false
  private batchRows: number
  /** How often each row was refused alone while the database answered. */
  private readonly loneFailures = new Map<string, number>()
  readonly quarantined: UsageRow[] = []
  written = 0

  constructor(private readonly opts: BatchingWriterOptions) {
    this.retryMs = opts.minRetryMs ?? 100
    this.batchRows = opts.maxBatchRows ?? 500
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
    const batch = this.queue.splice(0, this.batchRows)
    if (batch.length === 0) return Promise.resolve()
    this.writing = this.opts
      .write(batch)
      .then(() => {
        this.written += batch.length
        for (const row of batch) this.loneFailures.delete(row.id)
        if (this.failing) this.opts.log.info('usage writes recovered', { pendingRows: this.queue.length })
        this.failing = false
        this.retryMs = this.opts.minRetryMs ?? 100
        this.batchRows = Math.min(this.batchRows * 2, this.opts.maxBatchRows ?? 500)
      })
      .catch(async (err: unknown) => {
        if (!this.failing) this.opts.log.error('usage write failed; rows kept for retry', { error: errorName(err), pendingRows: this.queue.length + batch.length })
        this.failing = true
        if (batch.length > 1) {
          this.queue.unshift(...batch)
          this.batchRows = Math.ceil(batch.length / 2)
          return
        }
        await this.setAsideOrRequeue(batch[0]!, err)
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

  /** A row failing alone goes to the back of the queue, so the rows behind it get their turn. */
  private async setAsideOrRequeue(row: UsageRow, err: unknown): Promise<void> {
    const databaseAnswers = this.opts.probe ? await this.opts.probe().then(() => true, () => false) : false
    const refusals = (this.loneFailures.get(row.id) ?? 0) + (databaseAnswers ? 1 : 0)
    if (refusals >= POISON_FAILURES) {
      this.loneFailures.delete(row.id)
      this.quarantined.push(row)
      this.opts.log.error('usage row refused by the database; set aside', { rowId: row.id, error: errorName(err) })
      return
    }
    this.loneFailures.set(row.id, refusals)
    this.queue.push(row)
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
