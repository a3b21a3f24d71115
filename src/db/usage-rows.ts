import { and, desc, eq, gte, lt, or, sql } from 'drizzle-orm'
import type { RecentRequest, ReportFilter } from '../dashboard/report-types.js'
import type { GatewayDb } from './client.js'
import { apiKeys, usage } from './schema.js'

export interface UsageRowsQuery {
  teamId: string
  fromMs: number
  toMs: number
  filter: ReportFilter
  limit: number
  /** Keyset paging: rows strictly older than this one (newest first). */
  before?: { createdAtMs: number; id: string }
}

/**
 * A page of one team's usage rows, newest first: metadata only (usage rows hold no prompt text).
 * Keyset-paged on (created_at, id), so an export of millions of rows reads each page by index.
 */
export async function usageRowsPage(db: GatewayDb, q: UsageRowsQuery): Promise<RecentRequest[]> {
  const before = q.before
  const rows = await db
    .select({
      id: usage.id,
      createdAtMs: usage.createdAt,
      keyId: usage.keyId,
      keyName: sql<string>`coalesce(${apiKeys.name}, '')`,
      model: usage.requestedModel,
      backend: usage.backend,
      host: usage.backendHost,
      status: usage.status,
      errorCode: usage.errorCode,
      promptTokens: usage.promptTokens,
      cacheHitTokens: usage.cacheHitTokens,
      completionTokens: usage.completionTokens,
      reasoningTokens: usage.reasoningTokens,
      costNanoUsd: usage.costNanoUsd,
      localCostNanoUsd: usage.localCostNanoUsd,
      hostedEquivNanoUsd: usage.hostedEquivNanoUsd,
      latencyMs: usage.latencyMs,
      ttftMs: usage.ttftMs,
      streamed: usage.streamed,
      fellBack: usage.fellBack,
      fallbackReason: usage.fallbackReason,
    })
    .from(usage)
    // The join is on the key id alone; the team condition below is what scopes the rows.
    .leftJoin(apiKeys, eq(apiKeys.id, usage.keyId))
    .where(
      and(
        eq(usage.teamId, q.teamId),
        gte(usage.createdAt, q.fromMs),
        // With a cursor the index walk starts at it, not at the end of the period (page N costs what page 1 does).
        lt(usage.createdAt, before ? Math.min(q.toMs, before.createdAtMs + 1) : q.toMs),
        q.filter.keyId !== undefined ? eq(usage.keyId, q.filter.keyId) : undefined,
        q.filter.model !== undefined ? eq(usage.requestedModel, q.filter.model) : undefined,
        q.filter.backend !== undefined ? eq(usage.backend, q.filter.backend) : undefined,
        before ? or(lt(usage.createdAt, before.createdAtMs), and(eq(usage.createdAt, before.createdAtMs), lt(usage.id, before.id))) : undefined,
      ),
    )
    .orderBy(desc(usage.createdAt), desc(usage.id))
    .limit(q.limit)
  return rows
}
