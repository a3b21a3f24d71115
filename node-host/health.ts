/**
 * GET /health: open to anyone (tunnels and load balancers probe it), so it carries no secrets and no
 * prompts: state, model name, slots, queue, recent speeds, uptime.
 */
import type { SlotQueue } from './queue.js'
import type { ThroughputWindow } from './throughput.js'
import type { BatchingState } from './engine/decode-mode.js'
import type { Engine } from './types.js'

export interface HealthBody {
  status: 'loading' | 'ok' | 'failed' | 'closed' | 'upstream_unavailable'
  mode: 'llama' | 'forward'
  model: string
  progress?: number
  slots: { total: number; busy: number }
  queue: { depth: number; max: number }
  tokens_per_second: { prefill: number | null; decode: number | null }
  context_size: number | null
  threads: number | null
  uptime_seconds: number
  upstream?: string
  /** The llama.cpp CPU backend variant in use (llama mode). */
  cpu_variant?: string
  /** How concurrent sequences decode: the policy, and per stream count the mode measured faster (llama mode). */
  batching?: BatchingState
  /** Why the engine cannot serve (status 'failed'): one line naming the model, variant and remedy. */
  error?: string
}

export async function healthReport(deps: { engine: Engine; queue: SlotQueue; throughput: ThroughputWindow; startedAtMs: number }): Promise<{ status: 200 | 503; body: HealthBody }> {
  const info = deps.engine.info()
  const base = {
    mode: info.mode,
    model: info.modelName,
    slots: { total: deps.queue.slotsTotal, busy: deps.queue.slotsBusy },
    queue: { depth: deps.queue.queueDepth, max: deps.queue.maxQueue },
    tokens_per_second: { prefill: round(deps.throughput.prefillTokensPerSecond), decode: round(deps.throughput.decodeTokensPerSecond) },
    context_size: info.contextSize ?? null,
    threads: info.threads ?? null,
    uptime_seconds: Math.round((Date.now() - deps.startedAtMs) / 1000),
    ...(info.cpuVariant ? { cpu_variant: info.cpuVariant } : {}),
    ...(info.batching ? { batching: info.batching } : {}),
  }
  if (info.state === 'loading') return { status: 503, body: { status: 'loading', progress: round(info.loadProgress, 3) ?? 0, ...base } }
  if (info.state !== 'ready') return { status: 503, body: { status: info.state, ...base, ...(info.error ? { error: info.error } : {}) } }
  if (deps.engine.probe) {
    const probe = await deps.engine.probe()
    if (!probe.ok) return { status: 503, body: { status: 'upstream_unavailable', ...base, ...(probe.detail ? { upstream: probe.detail } : {}) } }
  }
  return { status: 200, body: { status: 'ok', ...base } }
}

function round(n: number | undefined, digits = 1): number | null {
  if (n === undefined) return null
  const f = 10 ** digits
  return Math.round(n * f) / f
}
