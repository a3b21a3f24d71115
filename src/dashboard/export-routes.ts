import { Hono, type Context } from 'hono'
import { dailyRollups } from './daily-rollups.js'
import { usageRowsPage } from '../db/usage-rows.js'
import { usdDecimal } from '../limits/budget-format.js'
import { csvLine, csvStream, type CsvCell } from './csv.js'
import type { DashboardContext } from './deps.js'
import { day } from './format.js'
import type { RecentRequest } from './report-types.js'
import { errorResponse } from './responses.js'
import { resolveTeamView, type TeamView } from './view-scope.js'
import type { DashboardEnv } from './viewer.js'

/** Rows per database read while streaming: small enough for a Worker's memory, large enough to be few. */
const EXPORT_PAGE_ROWS = 1000

const USAGE_COLUMNS = ['id', 'created_at', 'key_id', 'key_name', 'model', 'backend', 'host', 'status', 'error_code', 'prompt_tokens', 'cache_hit_tokens', 'completion_tokens', 'reasoning_tokens', 'cost_nano_usd', 'cost_usd', 'local_cost_nano_usd', 'local_cost_usd', 'hosted_equiv_nano_usd', 'latency_ms', 'ttft_ms', 'streamed', 'fell_back', 'fallback_reason'] as const

const DAILY_COLUMNS = ['day', 'backend', 'model', 'requests', 'errors', 'fallbacks', 'prompt_tokens', 'cache_hit_tokens', 'cache_miss_tokens', 'completion_tokens', 'reasoning_tokens', 'hosted_cost_nano_usd', 'hosted_cost_usd', 'local_cost_nano_usd', 'local_cost_usd', 'local_hosted_equiv_nano_usd', 'savings_nano_usd'] as const

const usd = (nanoUsd: number) => ({ decimal: usdDecimal(nanoUsd) })

function usageCells(r: RecentRequest): CsvCell[] {
  return [r.id, new Date(r.createdAtMs).toISOString(), r.keyId, r.keyName, r.model, r.backend, r.host, r.status, r.errorCode, r.promptTokens, r.cacheHitTokens, r.completionTokens, r.reasoningTokens, r.costNanoUsd, usd(r.costNanoUsd), r.localCostNanoUsd, usd(r.localCostNanoUsd), r.hostedEquivNanoUsd, r.latencyMs, r.ttftMs, r.streamed, r.fellBack, r.fallbackReason]
}

/** The view's usage rows, newest first, a page at a time (keyset paging on created_at, id). */
async function* usagePages(ctx: DashboardContext, view: TeamView): AsyncGenerator<CsvCell[][]> {
  let before: { createdAtMs: number; id: string } | undefined
  for (;;) {
    const rows = await usageRowsPage(ctx.db, { teamId: view.team.id, fromMs: view.period.fromMs, toMs: view.period.toMs, filter: view.filter, limit: EXPORT_PAGE_ROWS, before })
    if (rows.length > 0) yield rows.map(usageCells)
    const last = rows.at(-1)
    if (!last || rows.length < EXPORT_PAGE_ROWS) return
    before = { createdAtMs: last.createdAtMs, id: last.id }
  }
}

function csvHeaders(view: TeamView, what: string): Record<string, string> {
  const tz = view.period.tzOffsetMin
  // Team names are letters, digits, . _ - (src/admin/teams.ts); anything else is dropped all the same.
  const name = `${what}-${view.team.name}-${day(view.period.fromMs, tz)}-${day(view.period.toMs - 1, tz)}.csv`.replace(/[^A-Za-z0-9._-]/g, '_')
  return { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` }
}

/**
 * GET /dashboard/export/usage.csv and daily.csv: the team page's rows and daily rollups, with the
 * same query and the same reach. Mounted behind requireViewer.
 */
export function exportRoutes(ctx: DashboardContext): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>()

  async function viewOf(c: Context<DashboardEnv>): Promise<TeamView | Response> {
    const viewer = c.get('viewer')
    const resolved = await resolveTeamView(ctx.db, viewer, c.req.query(), ctx.now())
    if (resolved.ok) return resolved.view
    if (resolved.status === 'pick-team') return errorResponse(c, 400, 'Name the team to export: add team=<team id> (the Team page links carry it).', viewer)
    return errorResponse(c, resolved.status, resolved.message, viewer)
  }

  app.get('/usage.csv', async (c) => {
    const view = await viewOf(c)
    if (view instanceof Response) return view
    const requestId = c.get('requestId')
    const body = csvStream(USAGE_COLUMNS, usagePages(ctx, view), (err) => ctx.log.error('usage export failed mid-stream', { requestId, error: err instanceof Error ? err.name : 'unknown' }))
    return c.body(body, 200, csvHeaders(view, 'usage'))
  })

  app.get('/daily.csv', async (c) => {
    const view = await viewOf(c)
    if (view instanceof Response) return view
    const rows = await dailyRollups(ctx.db, { teamId: view.team.id, period: view.period, filter: view.filter, nowMs: ctx.now() })
    const tz = view.period.tzOffsetMin
    const lines = rows.map((r) =>
      csvLine([day(r.dayStartMs, tz), r.backend, r.model, r.requests, r.errors, r.fallbacks, r.promptTokens, r.cacheHitTokens, r.cacheMissTokens, r.completionTokens, r.reasoningTokens, r.hostedCostNanoUsd, usd(r.hostedCostNanoUsd), r.localCostNanoUsd, usd(r.localCostNanoUsd), r.localHostedEquivNanoUsd, r.savingsNanoUsd]),
    )
    return c.body(csvLine(DAILY_COLUMNS) + lines.join(''), 200, csvHeaders(view, 'daily'))
  })

  return app
}
