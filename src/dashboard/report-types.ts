import type { BackendMode } from '../db/schema.js'
import type { BudgetStatus } from '../limits/budget-status.js'

/** The span a page shows: [fromMs, toMs), whole hours, with the chart bucket it is drawn in. */
export interface Period {
  name: 'today' | '7d' | '30d' | 'custom'
  fromMs: number
  toMs: number
  /** Offset of the viewer's time zone from UTC, minutes (days start at local midnight). */
  tzOffsetMin: number
  bucket: 'hour' | 'day'
  /** e.g. '2026-11-01 – 2026-11-28', in the viewer's offset. */
  label: string
}

/** Filters a team page and its exports share; each narrows within the team, never beyond it. */
export interface ReportFilter {
  keyId?: string
  model?: string
  backend?: 'local' | 'hosted'
}

/** Sums over the period, all integers except the derived rates; money in nano-USD. */
export interface ReportTotals {
  requests: number
  errors: number
  fallbacks: number
  clientAborts: number
  localRequests: number
  hostedRequests: number
  promptTokens: number
  cacheHitTokens: number
  cacheMissTokens: number
  completionTokens: number
  reasoningTokens: number
  /** What the hosted API billed. */
  hostedCostNanoUsd: number
  /** Local node-hosts' hardware and power, shared over their busy time. */
  localCostNanoUsd: number
  /** What the hosted API would have charged for the locally served tokens. */
  localHostedEquivNanoUsd: number
  /** localHostedEquivNanoUsd - localCostNanoUsd (negative: local cost more). */
  savingsNanoUsd: number
  latencyP50Ms: number | null
  latencyP95Ms: number | null
  ttftP50Ms: number | null
  ttftP95Ms: number | null
  /** Local decode speed: completion tokens after the first over the time they took. */
  localDecodeTokensPerSecond: number | null
}

/** One row of a breakdown (by key, model, backend, host or team). */
export interface BreakdownRow extends ReportTotals {
  /** The grouped value: key id, model name, backend, host name or team id ('' = none). */
  value: string
  /** What to show for it: a key's name, a team's name, '(none)'. */
  label: string
}

export interface SavingsDay {
  dayStartMs: number
  localCostNanoUsd: number
  localHostedEquivNanoUsd: number
  savingsNanoUsd: number
  localRequests: number
}

/** Chart data as the client script draws it (src/dashboard/client/dashboard.js). */
export interface ChartData {
  id: string
  title: string
  unit: 'usd' | 'tokens' | 'ms' | 'count'
  kind: 'line' | 'bars'
  /** Bucket starts, unix seconds. */
  x: number[]
  series: Array<{ label: string; values: Array<number | null> }>
}

/** A usage row as the recent-requests table and CSV show it: metadata only, never prompt text. */
export interface RecentRequest {
  id: string
  createdAtMs: number
  keyId: string
  keyName: string
  model: string | null
  backend: string | null
  host: string | null
  status: number
  errorCode: string | null
  promptTokens: number
  cacheHitTokens: number
  completionTokens: number
  reasoningTokens: number
  costNanoUsd: number
  localCostNanoUsd: number
  hostedEquivNanoUsd: number
  latencyMs: number
  ttftMs: number | null
  streamed: boolean
  fellBack: boolean
  fallbackReason: string | null
}

export interface TeamReport {
  team: { id: string; name: string; backendMode: BackendMode | null; effectiveMode: BackendMode }
  period: Period
  filter: ReportFilter
  totals: ReportTotals
  savingsByDay: SavingsDay[]
  charts: ChartData[]
  byKey: BreakdownRow[]
  byModel: BreakdownRow[]
  byBackend: BreakdownRow[]
  byHost: BreakdownRow[]
  /** The team's budget now (not of the period). */
  budget?: BudgetStatus
  /** Newest first. */
  recent: RecentRequest[]
  /** Filter choices: the team's keys and the models it used in the period. */
  keys: Array<{ id: string; name: string }>
  models: string[]
}

export interface AdminReport {
  period: Period
  totals: ReportTotals
  /** Every team, most spent (hosted + local) first. */
  teams: BreakdownRow[]
  /** Per node-host, with its share of busy time in the period. */
  hosts: Array<BreakdownRow & { busyMs: number; utilization: number }>
  charts: ChartData[]
}
