import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from '../../src/routing/breaker.js'

function breakerWithClock(failures = 3, cooldownMs = 1000) {
  const clock = { t: 1_000_000 }
  const breaker = new CircuitBreaker({ failures, cooldownMs, now: () => clock.t })
  return { breaker, clock }
}

describe('circuit breaker', () => {
  it('stays closed below N consecutive failures, and a success resets the count', () => {
    const { breaker } = breakerWithClock(3)
    breaker.failure()
    breaker.failure()
    breaker.success()
    breaker.failure()
    breaker.failure()
    expect(breaker.state).toBe('closed')
    expect(breaker.admit()).toBe(true)
  })

  it('opens after N consecutive failures and admits nothing during the cool-down', () => {
    const { breaker, clock } = breakerWithClock(3, 1000)
    expect([breaker.failure(), breaker.failure(), breaker.failure()]).toEqual([false, false, true])
    expect(breaker.state).toBe('open')
    expect(breaker.openUntil).toBe(clock.t + 1000)
    clock.t += 999
    expect(breaker.admit()).toBe(false)
  })

  it('goes half-open after the cool-down and admits exactly one trial', () => {
    const { breaker, clock } = breakerWithClock(1, 1000)
    breaker.failure()
    clock.t += 1000
    expect(breaker.state).toBe('half-open')
    expect(breaker.admit()).toBe(true)
    expect(breaker.admit()).toBe(false)
    expect(breaker.canAdmit()).toBe(false)
  })

  it('closes when the trial succeeds', () => {
    const { breaker, clock } = breakerWithClock(1, 1000)
    breaker.failure()
    clock.t += 1000
    breaker.admit()
    expect(breaker.success()).toBe(true)
    expect(breaker.state).toBe('closed')
    expect(breaker.admit()).toBe(true)
    expect(breaker.admit()).toBe(true)
  })

  it('re-opens for a full cool-down when the trial fails', () => {
    const { breaker, clock } = breakerWithClock(3, 1000)
    breaker.failure()
    breaker.failure()
    breaker.failure()
    clock.t += 1500
    expect(breaker.admit()).toBe(true)
    expect(breaker.failure()).toBe(true)
    expect(breaker.state).toBe('open')
    expect(breaker.openUntil).toBe(clock.t + 1000)
  })

  it('lets the next request be the trial when the trial ended without a verdict', () => {
    const { breaker, clock } = breakerWithClock(1, 1000)
    breaker.failure()
    clock.t += 1000
    breaker.admit()
    breaker.release()
    expect(breaker.admit()).toBe(true)
  })

  it("adopts another process's open state until its deadline, and a newer close", () => {
    const { breaker, clock } = breakerWithClock(3, 1000)
    breaker.adopt({ state: 'open', openUntil: clock.t + 500 })
    expect(breaker.admit()).toBe(false)
    clock.t += 500
    expect(breaker.state).toBe('half-open')
    breaker.adopt({ state: 'closed', openUntil: 0 })
    expect(breaker.state).toBe('closed')
    // An open record whose deadline has passed is no reason to stop traffic.
    breaker.adopt({ state: 'open', openUntil: clock.t - 1 })
    expect(breaker.state).toBe('closed')
  })
})
