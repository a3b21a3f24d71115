/** closed: traffic flows. open: none until the cool-down ends. half-open: one trial request. */
export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failures: number
  /** How long an open breaker stays open before admitting one trial. */
  cooldownMs: number
  now: () => number
}

/** The part of a breaker other gateway processes need to agree on. */
export interface BreakerSnapshot {
  state: BreakerState
  openUntil: number
}

/**
 * A circuit breaker for one upstream; pure logic, the clock injected.
 * Callers ask `admit()` before a request and report `success()` / `failure()` after it;
 * `release()` returns an admission whose outcome says nothing (the client left).
 * @example if (breaker.admit()) { try { ...; breaker.success() } catch { breaker.failure() } }
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed'
  private consecutiveFailures = 0
  private openUntilMs = 0
  private trialInFlight = false

  constructor(private readonly opts: BreakerOptions) {}

  /** The state now, with an expired cool-down seen as half-open. */
  get state(): BreakerState {
    if (this.current === 'open' && this.opts.now() >= this.openUntilMs) return 'half-open'
    return this.current
  }

  get openUntil(): number {
    return this.current === 'open' ? this.openUntilMs : 0
  }

  /** Whether a request would be admitted now, without taking the half-open trial. */
  canAdmit(): boolean {
    const state = this.state
    return state === 'closed' || (state === 'half-open' && !this.trialInFlight)
  }

  /** Admits a request; in half-open only one at a time (the trial). */
  admit(): boolean {
    if (!this.canAdmit()) return false
    if (this.state === 'half-open') {
      this.current = 'half-open'
      this.trialInFlight = true
    }
    return true
  }

  /** Returns true when the state changed (callers publish changes, not every outcome). */
  success(): boolean {
    const before = this.current
    this.consecutiveFailures = 0
    this.trialInFlight = false
    if (this.current === 'half-open') this.current = 'closed'
    return before !== this.current
  }

  /** Returns true when the state changed. */
  failure(): boolean {
    this.trialInFlight = false
    this.consecutiveFailures++
    // A failed trial re-opens at once; otherwise N in a row. Failures while open change nothing.
    if (this.state === 'half-open' || (this.current === 'closed' && this.consecutiveFailures >= this.opts.failures)) {
      this.current = 'open'
      this.openUntilMs = this.opts.now() + this.opts.cooldownMs
      return true
    }
    return false
  }

  /** An admission whose outcome proves nothing either way (e.g. the client went away). */
  release(): void {
    this.trialInFlight = false
  }

  snapshot(): BreakerSnapshot {
    return { state: this.state, openUntil: this.openUntil }
  }

  /** Adopts another process's view (shared state): open until a time, or closed. */
  adopt(snapshot: BreakerSnapshot): void {
    if (snapshot.state === 'open' && snapshot.openUntil > this.opts.now()) {
      this.current = 'open'
      this.openUntilMs = snapshot.openUntil
      this.trialInFlight = false
    } else if (snapshot.state === 'closed' && this.current !== 'closed') {
      this.current = 'closed'
      this.consecutiveFailures = 0
      this.trialInFlight = false
    }
  }
}
