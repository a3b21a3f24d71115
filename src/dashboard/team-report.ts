import type { GatewayDb } from '../db/client.js'
import { listKeys } from '../db/keys.js'
import { rollupBy, rollupModels, rollupSeries, rollupTotals, type RollupDimension, type RollupScope, type RollupSums } from '../db/rollups.js'
import type { BackendMode } from '../db/schema.js'
import { findTeamById } from '../db/teams.js'
import { usageRowsPage } from '../db/usage-rows.js'
import { budgetStatusFor } from '../limits/budget-status.js'
import { backendCharts, modelChart } from './charts.js'
import { PERIOD_MS } from './period.js'
import type { BreakdownRow, Period, ReportFilter, SavingsDay, TeamReport } from './report-types.js'
import { reportTotals } from './totals.js'

export interface TeamReportOptions {
  teamId: string
  period: Period
  filter: ReportFilter
  recentLimit?: number
  /** The gateway's DEFAULT_BACKEND, which applies when the team has no mode of its own. */
  defaultMode?: BackendMode
  nowMs?: number
}

export const breakdownRow = (r: RollupSums & { value: string }, label: string): BreakdownRow => ({ ...reportTotals(r), value: r.value, label })

/** Local cost, what hosted would have charged for the same tokens, and the difference, per day. */
export function savingsByDay(rows: ReadonlyArray<RollupSums & { startMs: number; dims: Record<string, string> }>): SavingsDay[] {
  return rows
    .filter((r) => r.dims.backend === 'local')
    .map((r) => ({
      dayStartMs: r.startMs,
      localCostNanoUsd: r.localCostNanoUsd,
      localHostedEquivNanoUsd: r.localHostedEquivNanoUsd,
      savingsNanoUsd: r.localHostedEquivNanoUsd - r.localCostNanoUsd,
      localRequests: r.localRequests,
    }))
}

/**
 * Everything the team page shows, read from the hourly rollups (raw rows only for the
 * recent-requests table). Every query is bound to `teamId`; filters narrow within it.
 */
export async function teamReport(db: GatewayDb, opts: TeamReportOptions): Promise<TeamReport | undefined> {
  const team = await findTeamById(db, opts.teamId)
  if (!team) return undefined
  const { period, filter } = opts
  const nowMs = opts.nowMs ?? Date.now()
  const filtered = filter.keyId !== undefined || filter.model !== undefined || filter.backend !== undefined
  const scope: RollupScope = { teamId: team.id, fromMs: period.fromMs, toMs: period.toMs, nowMs, ...filter }
  const offsetMs = period.tzOffsetMin * 60_000
  const bucket = { bucketMs: PERIOD_MS[period.bucket], offsetMs }
  const by = (d: RollupDimension) => rollupBy(db, scope, d)
  const [totals, series, daily, perModel, byKey, byModel, byBackend, byHost, keys, models, recent] = await Promise.all([
    rollupTotals(db, scope),
    rollupSeries(db, scope, bucket),
    period.bucket === 'day' ? undefined : rollupSeries(db, scope, { bucketMs: PERIOD_MS.day, offsetMs }),
    rollupSeries(db, scope, bucket, ['model']),
    by('key'),
    by('model'),
    by('backend'),
    by('host'),
    listKeys(db, team.id),
    // Unfiltered, the model breakdown already names every model used.
    filtered ? rollupModels(db, { teamId: team.id, fromMs: period.fromMs, toMs: period.toMs, nowMs }) : undefined,
    usageRowsPage(db, { teamId: team.id, fromMs: period.fromMs, toMs: period.toMs, filter, limit: opts.recentLimit ?? 50 }),
  ])
  const keyNames = new Map(keys.map((k) => [k.id, k.name]))
  const budget = (filter.keyId ? await budgetStatusFor(db, 'key', filter.keyId, nowMs) : undefined) ?? (await budgetStatusFor(db, 'team', team.id, nowMs))
  return {
    team: { id: team.id, name: team.name, backendMode: team.backendMode, effectiveMode: team.backendMode ?? opts.defaultMode ?? 'hosted' },
    period,
    filter,
    totals: reportTotals(totals),
    savingsByDay: savingsByDay(daily ?? series),
    charts: [...backendCharts(period, series), modelChart(period, perModel)],
    byKey: byKey.map((r) => breakdownRow(r, keyNames.get(r.value) ?? r.value)),
    byModel: byModel.map((r) => breakdownRow(r, r.value || '(none)')),
    byBackend: byBackend.map((r) => breakdownRow(r, r.value || '(rejected before routing)')),
    byHost: byHost.filter((r) => r.value !== '').map((r) => breakdownRow(r, r.value)),
    ...(budget ? { budget } : {}),
    recent,
    keys: keys.map((k) => ({ id: k.id, name: k.name })),
    models: models ?? byModel.map((r) => r.value).filter((m) => m !== '').sort(),
  }
}
