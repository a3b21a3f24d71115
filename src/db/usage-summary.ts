import { and, eq, gte, lt, sql, type SQLWrapper } from 'drizzle-orm'
import type { GatewayDb } from './client.js'
import { usage } from './schema.js'

/** Sums over usage rows, all integers (costs in nano-USD): summed by SQLite, never as floats. */
export interface UsageTotals {
  requests: number
  failedRequests: number
  promptTokens: number
  cacheHitTokens: number
  cacheMissTokens: number
  completionTokens: number
  reasoningTokens: number
  costNanoUsd: number
  /** Locally served 200s that `auto` routing predicted a latency for, and the sum of |actual - predicted|. */
  predictedRequests: number
  predictionAbsErrorMs: number
}

export interface UsageBreakdownRow extends UsageTotals {
  /** The model the client asked for; null when the request was rejected before it named one. */
  model: string | null
  /** null when no backend was tried. */
  backend: string | null
}

const sumOf = (column: SQLWrapper) => sql<number>`coalesce(sum(${column}), 0)`.mapWith(Number)

// Only requests the prediction was about: served by local, completely.
const PREDICTED = sql`${usage.predictedLatencyMs} is not null and ${usage.backend} = 'local' and ${usage.status} = 200`

const TOTALS = {
  requests: sql<number>`count(*)`.mapWith(Number),
  failedRequests: sumOf(sql`case when ${usage.status} >= 400 then 1 else 0 end`),
  promptTokens: sumOf(usage.promptTokens),
  cacheHitTokens: sumOf(usage.cacheHitTokens),
  cacheMissTokens: sumOf(usage.cacheMissTokens),
  completionTokens: sumOf(usage.completionTokens),
  reasoningTokens: sumOf(usage.reasoningTokens),
  costNanoUsd: sumOf(usage.costNanoUsd),
  predictedRequests: sumOf(sql`case when ${PREDICTED} then 1 else 0 end`),
  predictionAbsErrorMs: sumOf(sql`case when ${PREDICTED} then abs(${usage.latencyMs} - ${usage.predictedLatencyMs}) else 0 end`),
}

/**
 * One team's (or one of its keys') usage in [fromMs, toMs): totals, and by model and backend.
 * The team condition is always there, so a key id from another team matches nothing.
 */
export async function usageSummary(db: GatewayDb, filter: { teamId: string; keyId?: string; fromMs: number; toMs: number }): Promise<{ totals: UsageTotals; breakdown: UsageBreakdownRow[] }> {
  const where = and(
    eq(usage.teamId, filter.teamId),
    filter.keyId !== undefined ? eq(usage.keyId, filter.keyId) : undefined,
    gte(usage.createdAt, filter.fromMs),
    lt(usage.createdAt, filter.toMs),
  )
  const [totalRows, breakdown] = await db.batch([
    db.select(TOTALS).from(usage).where(where),
    db
      .select({ model: usage.requestedModel, backend: usage.backend, ...TOTALS })
      .from(usage)
      .where(where)
      .groupBy(usage.requestedModel, usage.backend)
      .orderBy(usage.requestedModel, usage.backend),
  ])
  const totals = totalRows[0] ?? { requests: 0, failedRequests: 0, promptTokens: 0, cacheHitTokens: 0, cacheMissTokens: 0, completionTokens: 0, reasoningTokens: 0, costNanoUsd: 0, predictedRequests: 0, predictionAbsErrorMs: 0 }
  return { totals, breakdown }
}
