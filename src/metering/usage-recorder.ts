import type { UsageRow } from '../db/schema.js'
import type { BackendName } from '../routing/plan.js'
import type { HostShare } from './local-cost.js'
import { storableText } from './storable-text.js'
import { NO_TOKENS, type TokenUsage } from './token-usage.js'
import { usageCharges, type CostFn } from './usage-charges.js'
import type { UsageSink, WaitUntil } from './usage-sink.js'

export type { CostFn } from './usage-charges.js'

export interface UsageOutcome {
  status: number
  errorCode?: string | null
  backend?: BackendName | null
  backendHost?: string | null
  /** A pooled local response's claim on its node-host (busy share, hourly rate). */
  hostShare?: HostShare
  upstreamModel?: string | null
  usage?: TokenUsage
  usageEstimated?: boolean
  ttftMs?: number | null
  fellBack?: boolean
  fallbackReason?: string | null
  attempts?: number
  clientAborted?: boolean
}

/**
 * Builds the one usage row of a request. `finish` may be called from several exits
 * (response end, client abort, upstream error); only the first call records.
 */
export class UsageRecorder {
  private done = false
  requestedModel: string | null = null
  /** The request's name on hosted, for its hosted-equivalent price: an alias's hosted model (null: none); undefined = requestedModel. */
  hostedModel: string | null | undefined = undefined
  streamed = false
  /** Set by auto routing before the request is sent. */
  routeReason: string | null = null
  predictedLatencyMs: number | null = null
  /** Runs after the row is recorded (budget settle, rate-limit adjust); kept alive with waitUntil on Workers. */
  afterFinish: ((row: UsageRow) => Promise<void>) | undefined

  constructor(
    readonly id: string,
    private readonly base: { teamId: string; keyId: string; startedAtMs: number },
    private readonly deps: { sink: UsageSink; cost: CostFn; now: () => number; waitUntil?: WaitUntil; onAfterFinishError?: (err: unknown) => void },
  ) {}

  get finished(): boolean {
    return this.done
  }

  finish(outcome: UsageOutcome): void {
    if (this.done) return
    this.done = true
    const usage = outcome.usage ?? NO_TOKENS
    const charges = usageCharges(this.deps.cost, {
      backend: outcome.backend ?? null,
      upstreamModel: outcome.upstreamModel ?? null,
      hostedModel: this.hostedModel === undefined ? this.requestedModel : this.hostedModel,
      at: new Date(this.base.startedAtMs),
      usage,
      hostShare: outcome.hostShare,
    })
    const row: UsageRow = {
      id: this.id,
      teamId: this.base.teamId,
      keyId: this.base.keyId,
      createdAt: this.base.startedAtMs,
      requestedModel: storableText(this.requestedModel),
      backend: outcome.backend ?? null,
      backendHost: outcome.backendHost ?? null,
      upstreamModel: storableText(outcome.upstreamModel ?? null),
      ...usage,
      ...charges,
      latencyMs: Math.max(0, Math.round(this.deps.now() - this.base.startedAtMs)),
      ttftMs: outcome.ttftMs ?? null,
      status: outcome.status,
      errorCode: storableText(outcome.errorCode ?? null, 128),
      streamed: this.streamed,
      fellBack: outcome.fellBack ?? false,
      fallbackReason: storableText(outcome.fallbackReason ?? null, 128),
      attempts: outcome.attempts ?? 0,
      usageEstimated: outcome.usageEstimated ?? false,
      clientAborted: outcome.clientAborted ?? false,
      predictedLatencyMs: this.predictedLatencyMs,
      routeReason: this.routeReason,
    }
    this.deps.sink.record(row, this.deps.waitUntil)
    if (this.afterFinish) {
      const done = this.afterFinish(row).catch((err: unknown) => this.deps.onAfterFinishError?.(err))
      this.deps.waitUntil?.(done)
    }
  }
}
