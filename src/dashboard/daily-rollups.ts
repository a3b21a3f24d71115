import type { GatewayDb } from '../db/client.js'
import { rollupSeries } from '../db/rollups.js'
import { DAY_MS } from '../db/rollup-plan.js'
import type { Period, ReportFilter, ReportTotals } from './report-types.js'
import { reportTotals } from './totals.js'

/** Per day (viewer's midnight), backend and model: the daily CSV export's rows, oldest first. */
export async function dailyRollups(db: GatewayDb, q: { teamId: string; period: Period; filter: ReportFilter; nowMs?: number }): Promise<Array<{ dayStartMs: number; backend: string; model: string } & ReportTotals>> {
  const rows = await rollupSeries(
    db,
    { teamId: q.teamId, fromMs: q.period.fromMs, toMs: q.period.toMs, nowMs: q.nowMs, ...q.filter },
    { bucketMs: DAY_MS, offsetMs: q.period.tzOffsetMin * 60_000 },
    ['backend', 'model'],
  )
  return rows.map((r) => ({ dayStartMs: r.startMs, backend: r.dims.backend ?? '', model: r.dims.model ?? '', ...reportTotals(r) }))
}
