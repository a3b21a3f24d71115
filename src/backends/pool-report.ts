import type { BreakerState } from '../routing/breaker.js'
import type { HostState } from '../routing/host-state.js'
import type { NodeHostEntry } from './pool-config.js'

/** One node-host in GET /admin/health: no secrets, no full URL (it may carry a tunnel token). */
export interface NodeHostReport {
  name: string
  host: string
  models: string[] | null
  breaker: BreakerState
  available: boolean
  open_until: number | null
  retry_after_until: number | null
  last_error: string | null
  last_error_at: number | null
  latency_p50_ms: number | null
  decode_tokens_per_second: number | null
  health_status: string | null
  health_at: number | null
  /** node-host's own reason it cannot serve, from its last /health (last_error says how the probe went). */
  health_error: string | null
  cpu_variant: string | null
  slots: { total: number; busy: number } | null
  queue: { depth: number; max: number } | null
  in_flight: number
  /** Sent by this gateway process since it started. */
  requests: number
  /** The configured hourly cost while busy (hardware + power), integer nano-USD; 0 when not configured. */
  cost_nano_usd_per_hour: number
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return 'invalid-url'
  }
}

export function hostReport(entry: NodeHostEntry, s: HostState): NodeHostReport {
  const openUntil = s.breaker.openUntil
  return {
    name: entry.name,
    host: hostOf(entry.url),
    models: entry.models ?? null,
    breaker: s.breakerState,
    available: s.available(),
    open_until: openUntil > 0 ? openUntil : null,
    retry_after_until: s.retryAfterUntil > Date.now() ? s.retryAfterUntil : null,
    last_error: s.lastError,
    last_error_at: s.lastErrorAt || null,
    latency_p50_ms: s.latencyP50(),
    decode_tokens_per_second: s.health?.decodeTokensPerSecond ?? null,
    health_status: s.health?.status ?? null,
    health_at: s.health?.atMs ?? null,
    health_error: s.health?.error ?? null,
    cpu_variant: s.health?.cpuVariant ?? null,
    slots: s.health?.slots ?? null,
    queue: s.health?.queue ?? null,
    in_flight: s.inFlight,
    requests: s.sent,
    cost_nano_usd_per_hour: entry.costNanoUsdPerHour,
  }
}
