import type { BackendName } from './plan.js'
import { predictLatencyMs, promptTokensEstimate, type HostTelemetry } from './predict-latency.js'

export interface AutoConfig {
  /** Deadline when neither the request (x-moe-deadline-ms) nor the team sets one (AUTO_DEFAULT_DEADLINE_MS). */
  defaultDeadlineMs: number
  /** Completion length assumed when a request sets no max_tokens (AUTO_COMPLETION_TOKENS). */
  typicalCompletionTokens: number
  /** Per public model name, over typicalCompletionTokens. */
  completionTokensByModel: Record<string, number>
}

export type AutoDecision =
  | { ok: true; order: BackendName[]; predictedLatencyMs: number | null; reason: string; deadlineMs: number }
  | { ok: false; status: 400; code: string; message: string }

/** A header's deadline, or undefined when absent; NaN-free positive integers only. */
function parseDeadlineHeader(raw: string | undefined): number | undefined | 'invalid' {
  if (raw === undefined) return undefined
  const value = Number(raw.trim())
  return Number.isInteger(value) && value > 0 ? value : 'invalid'
}

/**
 * `auto` mode: local when the chosen node-host is predicted to answer within the request's
 * deadline, hosted otherwise; the other backend stays the fallback either way.
 * `order` is what planRoute left usable (auto plans local, hosted).
 */
export function decideAuto(opts: {
  order: BackendName[]
  telemetry: HostTelemetry | null
  bodyBytes: number
  model: string
  maxTokens: number | undefined
  deadlineHeader: string | undefined
  teamDeadlineMs: number | null
  config: AutoConfig
}): AutoDecision {
  const header = parseDeadlineHeader(opts.deadlineHeader)
  if (header === 'invalid') return { ok: false, status: 400, code: 'invalid_deadline', message: 'x-moe-deadline-ms must be a positive integer (milliseconds)' }
  const deadlineMs = header ?? opts.teamDeadlineMs ?? opts.config.defaultDeadlineMs
  const hasLocal = opts.order.includes('local')
  const hasHosted = opts.order.includes('hosted')
  if (!hasLocal || !hasHosted) return { ok: true, order: opts.order, predictedLatencyMs: null, reason: hasLocal ? 'auto:local-only' : 'auto:hosted-only', deadlineMs }
  if (!opts.telemetry) return { ok: true, order: ['hosted', 'local'], predictedLatencyMs: null, reason: 'auto:no-telemetry', deadlineMs }
  const completionTokens = opts.maxTokens ?? opts.config.completionTokensByModel[opts.model] ?? opts.config.typicalCompletionTokens
  const predicted = predictLatencyMs({ telemetry: opts.telemetry, promptTokens: promptTokensEstimate(opts.bodyBytes), completionTokens })
  if (predicted === null) return { ok: true, order: ['hosted', 'local'], predictedLatencyMs: null, reason: 'auto:no-telemetry', deadlineMs }
  if (predicted <= deadlineMs) return { ok: true, order: ['local', 'hosted'], predictedLatencyMs: predicted, reason: 'auto:local-meets-deadline', deadlineMs }
  return { ok: true, order: ['hosted', 'local'], predictedLatencyMs: predicted, reason: 'auto:hosted-local-too-slow', deadlineMs }
}

/** AUTO_COMPLETION_TOKENS: "256" or "256,deepseek-r1=1024,other=64" (a default, then per-model lengths). */
export function parseCompletionTokens(raw: string | undefined): { typicalCompletionTokens: number; completionTokensByModel: Record<string, number> } {
  const out = { typicalCompletionTokens: 256, completionTokensByModel: {} as Record<string, number> }
  if (!raw?.trim()) return out
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.lastIndexOf('=')
    const [model, count] = eq === -1 ? [undefined, part] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()]
    const value = Number(count)
    if (!Number.isInteger(value) || value <= 0) throw new Error(`AUTO_COMPLETION_TOKENS: "${part}" is not a positive token count`)
    if (model === undefined) out.typicalCompletionTokens = value
    else out.completionTokensByModel[model] = value
  }
  return out
}
