import type { Backend } from '../backends/backend.js'
import type { BackendMode } from '../db/schema.js'
import { decideAuto, type AutoConfig } from './auto-route.js'
import type { RoutePlan } from './plan.js'

/**
 * Settles an `auto` plan's order for one request and notes the prediction and reason on the usage
 * row. Other modes, a per-request backend override and refusals pass through unchanged.
 */
export function applyAutoMode(
  plan: RoutePlan,
  opts: {
    mode: BackendMode
    override: string | undefined
    local: Backend | undefined
    config: AutoConfig
    bodyBytes: number
    model: string
    /** What node-hosts are asked for: differs from `model` for a model alias. */
    localModel: string
    maxTokens: number | undefined
    deadlineHeader: string | undefined
    teamDeadlineMs: number | null
    recorder: { routeReason: string | null; predictedLatencyMs: number | null }
  },
): RoutePlan {
  if (!plan.ok || opts.mode !== 'auto' || opts.override !== undefined) return plan
  const decision = decideAuto({
    order: plan.order,
    telemetry: opts.local?.telemetry?.(opts.localModel) ?? null,
    bodyBytes: opts.bodyBytes,
    model: opts.model,
    maxTokens: opts.maxTokens,
    deadlineHeader: opts.deadlineHeader,
    teamDeadlineMs: opts.teamDeadlineMs,
    config: opts.config,
  })
  if (!decision.ok) return decision
  opts.recorder.routeReason = decision.reason
  opts.recorder.predictedLatencyMs = decision.predictedLatencyMs
  return { ok: true, order: decision.order }
}
