import type { NodeHostReport } from '../backends/pool-report.js'
import type { GatewayDb } from '../db/client.js'
import { EMPTY_SUMS, rollupBy, rollupSeries, rollupTotals } from '../db/rollups.js'
import { listTeams } from '../db/teams.js'
import { backendCharts } from './charts.js'
import { PERIOD_MS } from './period.js'
import type { AdminReport, Period } from './report-types.js'
import { breakdownRow } from './team-report.js'
import { reportTotals } from './totals.js'

/**
 * The gateway admin's view: every team's spend, the busiest first, and each node-host's share of
 * busy time over the period so far (`hosts`: the configured ones, so an idle host shows too).
 */
export async function adminReport(db: GatewayDb, opts: { period: Period; hosts: readonly NodeHostReport[]; nowMs?: number }): Promise<AdminReport> {
  const { period } = opts
  const nowMs = opts.nowMs ?? Date.now()
  const scope = { fromMs: period.fromMs, toMs: period.toMs, nowMs }
  const [totals, byTeam, byHost, series, teams] = await Promise.all([
    rollupTotals(db, scope),
    // Neither the teams nor the node-hosts table shows a percentile.
    rollupBy(db, scope, 'team', { histograms: false }),
    rollupBy(db, { ...scope, backend: 'local' }, 'host', { histograms: false }),
    rollupSeries(db, scope, { bucketMs: PERIOD_MS[period.bucket], offsetMs: period.tzOffsetMin * 60_000 }),
    listTeams(db),
  ])
  const names = new Map(teams.map((t) => [t.id, t.name]))
  const spent = (r: { hostedCostNanoUsd: number; localCostNanoUsd: number }) => r.hostedCostNanoUsd + r.localCostNanoUsd
  const elapsedMs = Math.max(1, Math.min(nowMs, period.toMs) - period.fromMs)
  const hostRows = new Map(byHost.map((r) => [r.value, r]))
  const hostNames = [...new Set([...opts.hosts.map((h) => h.name), ...hostRows.keys()])].filter((n) => n !== '')
  return {
    period,
    totals: reportTotals(totals),
    teams: byTeam.map((r) => breakdownRow(r, names.get(r.value) ?? r.value)).sort((a, b) => spent(b) - spent(a) || b.requests - a.requests),
    hosts: hostNames.map((name) => {
      const r = hostRows.get(name)
      const row = breakdownRow(r ?? { ...EMPTY_SUMS, value: name }, name)
      const busyMs = r?.busyMs ?? 0
      return { ...row, busyMs, utilization: Math.min(1, busyMs / elapsedMs) }
    }),
    charts: backendCharts(period, series),
  }
}
