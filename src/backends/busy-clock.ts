/** One request's claim on a busy clock; `end()` stops it and returns its share in ms (the same value on every later call). */
export interface BusyTicket {
  end(): number
}

/**
 * How much of a node-host's busy time each request used, by processor sharing: while n > 0
 * requests are in flight, every instant's dt is split equally among the n. The clock keeps
 * virtual time V(t) = ∫ dt / n(t) over busy periods, so a request's share is V(end) − V(start):
 * O(1) per start or end, and the shares of all requests sum to the length of the union of their
 * intervals (each busy dt is handed out as n pieces of dt/n).
 * @example const ticket = clock.start(); ...; const busyMs = ticket.end()
 */
export class BusyClock {
  private virtualMs = 0
  private lastMs: number
  private active = 0

  constructor(private readonly now: () => number) {
    this.lastMs = now()
  }

  /** Requests in flight on the clock now. */
  get inFlight(): number {
    return this.active
  }

  start(): BusyTicket {
    this.advance()
    this.active++
    const startV = this.virtualMs
    let shareMs: number | undefined
    return {
      end: () => {
        if (shareMs === undefined) {
          this.advance()
          this.active--
          shareMs = this.virtualMs - startV
        }
        return shareMs
      },
    }
  }

  private advance(): void {
    const t = this.now()
    // A wall clock stepped back must not hand out negative time.
    if (this.active > 0 && t > this.lastMs) this.virtualMs += (t - this.lastMs) / this.active
    this.lastMs = Math.max(this.lastMs, t)
  }
}
