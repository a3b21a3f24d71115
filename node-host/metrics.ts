/**
 * Prometheus text exposition (format 0.0.4) without a client library: a handful of counters, gauges
 * and one histogram are all node-host needs.
 */
import type { SlotQueue } from './queue.js'
import type { ThroughputWindow } from './throughput.js'

const DURATION_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

export interface NodeHostMetrics {
  recordRequest(r: { status: number; durationMs: number; promptTokens?: number; cachedTokens?: number; completionTokens?: number }): void
  render(): string
}

export function createMetrics(deps: { queue: SlotQueue; throughput: ThroughputWindow; modelName: () => string; ready: () => boolean }): NodeHostMetrics {
  const requestsByStatus = new Map<string, number>()
  const durationBucketCounts = DURATION_BUCKETS_SECONDS.map(() => 0)
  let durationSumSeconds = 0
  let durationCount = 0
  let promptTokensTotal = 0
  let cachedTokensTotal = 0
  let completionTokensTotal = 0
  const startedAt = Date.now()

  return {
    recordRequest(r) {
      const status = String(r.status)
      requestsByStatus.set(status, (requestsByStatus.get(status) ?? 0) + 1)
      const seconds = r.durationMs / 1000
      DURATION_BUCKETS_SECONDS.forEach((le, i) => {
        if (seconds <= le) durationBucketCounts[i]!++
      })
      durationSumSeconds += seconds
      durationCount++
      promptTokensTotal += r.promptTokens ?? 0
      cachedTokensTotal += r.cachedTokens ?? 0
      completionTokensTotal += r.completionTokens ?? 0
    },
    render() {
      const lines: string[] = []
      const metric = (name: string, type: string, help: string, samples: Array<[labels: string, value: number]>) => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
        for (const [labels, value] of samples) lines.push(`${name}${labels} ${Number.isFinite(value) ? value : 0}`)
      }
      metric('node_host_requests_total', 'counter', 'Chat completion requests by HTTP status (499: client went away).',
        [...requestsByStatus].map(([status, n]) => [`{status="${status}"}`, n]))
      metric('node_host_prompt_tokens_total', 'counter', 'Prompt tokens of finished requests, cached ones included.', [['', promptTokensTotal]])
      metric('node_host_cached_prompt_tokens_total', 'counter', 'Prompt tokens reused from a sequence cache instead of evaluated.', [['', cachedTokensTotal]])
      metric('node_host_completion_tokens_total', 'counter', 'Tokens generated.', [['', completionTokensTotal]])
      metric('node_host_queue_depth', 'gauge', 'Requests waiting for a slot.', [['', deps.queue.queueDepth]])
      metric('node_host_queue_max', 'gauge', 'Waiting requests allowed before 429.', [['', deps.queue.maxQueue]])
      metric('node_host_slots_busy', 'gauge', 'Sequences generating now.', [['', deps.queue.slotsBusy]])
      metric('node_host_slots_total', 'gauge', 'Parallel sequences.', [['', deps.queue.slotsTotal]])
      metric('node_host_decode_tokens_per_second', 'gauge', 'Decode speed over recent requests.', [['', deps.throughput.decodeTokensPerSecond ?? 0]])
      metric('node_host_prefill_tokens_per_second', 'gauge', 'Prompt processing speed over recent requests.', [['', deps.throughput.prefillTokensPerSecond ?? 0]])
      metric('node_host_model_ready', 'gauge', 'Whether the model is loaded and serving.', [[`{model="${escapeLabel(deps.modelName())}"}`, deps.ready() ? 1 : 0]])
      metric('node_host_uptime_seconds', 'gauge', 'Seconds since start.', [['', Math.round((Date.now() - startedAt) / 1000)]])
      lines.push('# HELP node_host_request_duration_seconds Chat completion duration, queue wait included.', '# TYPE node_host_request_duration_seconds histogram')
      DURATION_BUCKETS_SECONDS.forEach((le, i) => lines.push(`node_host_request_duration_seconds_bucket{le="${le}"} ${durationBucketCounts[i]}`))
      lines.push(`node_host_request_duration_seconds_bucket{le="+Inf"} ${durationCount}`)
      lines.push(`node_host_request_duration_seconds_sum ${durationSumSeconds}`, `node_host_request_duration_seconds_count ${durationCount}`)
      return lines.join('\n') + '\n'
    },
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
