import type { UsageRow } from '../db/schema.js'

export type WaitUntil = (promise: Promise<unknown>) => void

/**
 * Where finished usage rows go. Writes happen after the response, never on the hot path:
 * a batching writer on Node, `ctx.waitUntil` on Workers.
 */
export interface UsageSink {
  record(row: UsageRow, waitUntil?: WaitUntil): void
  /** True when rows must be handed the request's `waitUntil` (Workers) to survive the response. */
  readonly needsWaitUntil?: boolean
}
