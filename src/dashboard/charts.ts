import type { RollupSums } from '../db/rollups.js'
import { quantileOf } from '../metering/latency-buckets.js'
import { bucketStarts } from './period.js'
import type { ChartData, Period } from './report-types.js'

type SeriesRow = RollupSums & { startMs: number; dims: Record<string, string> }

const NANO = 1e9
/** Models drawn as their own series; the rest are summed as "other". */
const TOP_MODELS = 6

/** One value per bucket of the period (null where no row fell), for each group `groupOf` names. */
function pivot(period: Period, rows: readonly SeriesRow[], groupOf: (r: SeriesRow) => string | undefined, value: (r: SeriesRow) => number): Map<string, Array<number | null>> {
  const starts = bucketStarts(period)
  const index = new Map(starts.map((t, i) => [t, i]))
  const out = new Map<string, Array<number | null>>()
  for (const r of rows) {
    const group = groupOf(r)
    const i = index.get(r.startMs)
    if (group === undefined || i === undefined) continue
    let values = out.get(group)
    if (!values) out.set(group, (values = starts.map(() => null)))
    values[i] = (values[i] ?? 0) + value(r)
  }
  return out
}

const xOf = (period: Period) => bucketStarts(period).map((t) => Math.floor(t / 1000))
const labelOf = (backend: string) => (backend === '' ? 'rejected' : backend)

/** Cost, tokens and latency over time, split by backend; `byBackend` comes from rollupSeries(..., ['backend']). */
export function backendCharts(period: Period, byBackend: readonly SeriesRow[]): ChartData[] {
  const x = xOf(period)
  const served = byBackend.filter((r) => r.dims.backend !== '')
  const hostedCost = pivot(period, served, (r) => (r.dims.backend === 'hosted' ? 'hosted (billed)' : undefined), (r) => r.costNanoUsd / NANO)
  const localCost = pivot(period, served, (r) => (r.dims.backend === 'local' ? 'local (hardware + power)' : undefined), (r) => r.localCostNanoUsd / NANO)
  const tokens = pivot(period, served, (r) => labelOf(r.dims.backend ?? ''), (r) => r.promptTokens + r.completionTokens)
  const latency = new Map<string, Array<number | null>>()
  for (const backend of ['local', 'hosted']) {
    const hists = histogramsByBucket(period, served.filter((r) => r.dims.backend === backend))
    if (!hists.some((hist) => hist.length > 0)) continue
    latency.set(`${backend} p50`, hists.map((hist) => quantileOf(hist, 0.5)))
    latency.set(`${backend} p95`, hists.map((hist) => quantileOf(hist, 0.95)))
  }
  const series = (m: Map<string, Array<number | null>>) => [...m].map(([label, values]) => ({ label, values }))
  return [
    { id: 'cost', title: 'Cost over time (USD)', unit: 'usd', kind: 'bars', x, series: [...series(hostedCost), ...series(localCost)] },
    { id: 'tokens', title: 'Tokens by backend (prompt + completion)', unit: 'tokens', kind: 'bars', x, series: series(tokens) },
    { id: 'latency', title: 'Latency p50 / p95', unit: 'ms', kind: 'line', x, series: series(latency) },
  ]
}

/** The latency histogram of each bucket of the period (empty where no row fell). */
function histogramsByBucket(period: Period, rows: readonly SeriesRow[]): number[][] {
  const starts = bucketStarts(period)
  const index = new Map(starts.map((t, i) => [t, i]))
  const out: number[][] = starts.map(() => [])
  for (const r of rows) {
    const hist = out[index.get(r.startMs) ?? -1]
    if (hist) r.latency.forEach((n, b) => (hist[b] = (hist[b] ?? 0) + n))
  }
  return out
}

/** Requests per model over time; the busiest models each get a series, the rest "other". */
export function modelChart(period: Period, byModel: readonly SeriesRow[]): ChartData {
  const totals = new Map<string, number>()
  for (const r of byModel) totals.set(r.dims.model ?? '', (totals.get(r.dims.model ?? '') ?? 0) + r.requests)
  const top = new Set([...totals].sort((a, b) => b[1] - a[1]).slice(0, TOP_MODELS).map(([m]) => m))
  const name = (m: string) => (top.has(m) ? m || '(no model)' : 'other')
  const values = pivot(period, byModel, (r) => name(r.dims.model ?? ''), (r) => r.requests)
  return { id: 'requests-by-model', title: 'Requests by model', unit: 'count', kind: 'bars', x: xOf(period), series: [...values].map(([label, v]) => ({ label, values: v })) }
}
