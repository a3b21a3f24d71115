import { CircuitBreaker, type BreakerOptions, type BreakerSnapshot, type BreakerState } from './breaker.js'

/** What a node-host's GET /health last said (node-host/health.ts), as far as routing cares. */
export interface HostHealth {
  status: string
  slots: { total: number; busy: number }
  queue: { depth: number; max: number }
  decodeTokensPerSecond: number | null
  prefillTokensPerSecond: number | null
  /** Why node-host says it cannot serve (e.g. its model failed to load); only with status 'failed'. */
  error?: string
  /** The llama.cpp CPU backend variant node-host loaded (e.g. 'haswell'), in llama mode. */
  cpuVariant?: string
  atMs: number
  /** This process's requests in flight when the answer came: /health's busy count includes them. */
  ownInFlight?: number
}

/** How one request (or probe) to a host went, as routing classifies it. */
export type Outcome =
  | { kind: 'success'; latencyMs: number }
  /** breaker: false = a sign of load, not breakage (429): held and noted, not counted. */
  | { kind: 'failure'; error: string; retryAfterMs?: number; breaker?: false }
  /** Says nothing about the host (the client left, or a 4xx about the request). */
  | { kind: 'neutral' }

/** The record gateway processes share about a host (see host-state-store.ts). */
export interface SharedHostState extends BreakerSnapshot {
  host: string
  retryAfterUntil: number
  lastError: string | null
  updatedAt: number
}

const LATENCY_WINDOW = 20

/**
 * Everything the gateway knows about one upstream host: its breaker, a Retry-After hold,
 * the last error, recent latencies, the last /health answer and requests in flight from here.
 */
export class HostState {
  readonly breaker: CircuitBreaker
  retryAfterUntil = 0
  lastError: string | null = null
  lastErrorAt = 0
  health: HostHealth | null = null
  inFlight = 0
  /** Requests this process has sent to the host. */
  sent = 0
  /** When this process last changed the shared record (older remote records lose). */
  changedAt = 0
  private readonly latencies: number[] = []

  constructor(readonly name: string, private readonly opts: BreakerOptions & { onChange?: (state: SharedHostState) => void }) {
    this.breaker = new CircuitBreaker(opts)
  }

  get breakerState(): BreakerState {
    return this.breaker.state
  }

  /** Not held by Retry-After, not loading or closed, and the breaker would admit a request. */
  available(): boolean {
    const status = this.health?.status
    return this.opts.now() >= this.retryAfterUntil && status !== 'closed' && status !== 'loading' && this.breaker.canAdmit()
  }

  /**
   * Lower is less loaded: other processes' share of what /health last said, plus what this process
   * has in flight now (exact, where /health is up to a probe interval old), over the host's slots.
   */
  load(): number {
    return this.occupied() / Math.max(1, this.health?.slots.total ?? 1)
  }

  /** Requests running or queued on the host: other processes' per the last /health, plus ours now. */
  occupied(): number {
    const reported = this.health ? this.health.slots.busy + this.health.queue.depth : 0
    const others = Math.max(0, reported - (this.health?.ownInFlight ?? 0))
    return others + this.inFlight
  }

  record(outcome: Outcome): void {
    const now = this.opts.now()
    if (outcome.kind === 'neutral') {
      this.breaker.release()
      return
    }
    if (outcome.kind === 'success') {
      this.latencies.push(outcome.latencyMs)
      if (this.latencies.length > LATENCY_WINDOW) this.latencies.shift()
      if (this.breaker.success()) this.publish(now)
      return
    }
    this.lastError = outcome.error
    this.lastErrorAt = now
    let changed = outcome.breaker === false ? (this.breaker.release(), false) : this.breaker.failure()
    if (outcome.retryAfterMs !== undefined && now + outcome.retryAfterMs > this.retryAfterUntil) {
      this.retryAfterUntil = now + outcome.retryAfterMs
      changed = true
    }
    if (changed) this.publish(now)
  }

  /** A good probe: clears a run of failures, but only real traffic (the trial) closes an open breaker. */
  noteHealthy(): void {
    if (this.breaker.state === 'closed') this.breaker.success()
  }

  /** p50 of the last few successful latencies (to response headers), or null. */
  latencyP50(): number | null {
    if (this.latencies.length === 0) return null
    const sorted = [...this.latencies].sort((a, b) => a - b)
    return sorted[Math.floor((sorted.length - 1) / 2)] ?? null
  }

  shared(now: number): SharedHostState {
    return { host: this.name, ...this.breaker.snapshot(), retryAfterUntil: this.retryAfterUntil, lastError: this.lastError, updatedAt: now }
  }

  /** Takes another process's record if it is newer than this process's last change. */
  adopt(remote: SharedHostState): void {
    if (remote.updatedAt <= this.changedAt) return
    this.changedAt = remote.updatedAt
    this.breaker.adopt(remote)
    this.retryAfterUntil = Math.max(this.retryAfterUntil, remote.retryAfterUntil)
    if (remote.lastError) this.lastError = remote.lastError
  }

  private publish(now: number): void {
    this.changedAt = now
    this.opts.onChange?.(this.shared(now))
  }
}
