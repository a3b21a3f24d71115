import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BusyClock } from '../../src/backends/busy-clock.js'

/** A clock whose time the test sets. */
function manualClock() {
  const time = { ms: 0 }
  return { time, clock: new BusyClock(() => time.ms) }
}

/** Length of the union of [start, end) intervals, by merging: the brute-force answer. */
function unionMs(intervals: ReadonlyArray<readonly [number, number]>): number {
  const sorted = intervals.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0])
  let total = 0
  let current: [number, number] | undefined
  for (const [s, e] of sorted) {
    if (current && s <= current[1]) current[1] = Math.max(current[1], e)
    else {
      if (current) total += current[1] - current[0]
      current = [s, e]
    }
  }
  return total + (current ? current[1] - current[0] : 0)
}

/** Each interval's processor-sharing share, by slicing time at every boundary: ∫ dt / n(t) over the interval. */
function sharesBySlicing(intervals: ReadonlyArray<readonly [number, number]>): number[] {
  const cuts = [...new Set(intervals.flat())].sort((a, b) => a - b)
  const shares = intervals.map(() => 0)
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i]!, cuts[i + 1]!]
    const active = intervals.flatMap(([s, e], j) => (s <= a && e >= b && e > s ? [j] : []))
    for (const j of active) shares[j]! += (b - a) / active.length
  }
  return shares
}

/** Runs the intervals through a BusyClock in time order and returns each one's share. */
function sharesByClock(intervals: ReadonlyArray<readonly [number, number]>): number[] {
  const { time, clock } = manualClock()
  const events = intervals.flatMap(([s, e], i) => [
    { at: s, kind: 'start' as const, i },
    { at: e, kind: 'end' as const, i },
  ])
  // At equal instants starts go first (a zero-length request starts before it ends); no time passes between them, so no share changes.
  events.sort((x, y) => x.at - y.at || (x.kind === y.kind ? 0 : x.kind === 'start' ? -1 : 1))
  const tickets = new Map<number, ReturnType<BusyClock['start']>>()
  const shares = intervals.map(() => 0)
  for (const event of events) {
    time.ms = event.at
    if (event.kind === 'start') tickets.set(event.i, clock.start())
    else shares[event.i] = tickets.get(event.i)!.end()
  }
  expect(clock.inFlight).toBe(0)
  return shares
}

describe('busy clock', () => {
  it('gives a lone request its whole wall time', () => {
    const { time, clock } = manualClock()
    const ticket = clock.start()
    time.ms += 250
    expect(ticket.end()).toBe(250)
  })

  it('splits overlapping time equally: [0,600) and [200,800) get 400 each, 800 in all', () => {
    expect(sharesByClock([[0, 600], [200, 800]])).toEqual([400, 400])
  })

  it('does not split sequential requests, and idle time between them belongs to no one', () => {
    expect(sharesByClock([[0, 100], [100, 300], [500, 600]])).toEqual([100, 200, 100])
  })

  it('splits three-way overlaps in thirds', () => {
    const shares = sharesByClock([[0, 300], [0, 300], [0, 300]])
    for (const share of shares) expect(share).toBeCloseTo(100, 9)
  })

  it('fixes a share when it ends: later calls return the same value and stop nothing else', () => {
    const { time, clock } = manualClock()
    const a = clock.start()
    const b = clock.start()
    time.ms += 100
    expect(a.end()).toBe(50)
    time.ms += 100
    expect(a.end()).toBe(50)
    expect(clock.inFlight).toBe(1)
    expect(b.end()).toBe(150)
  })

  it('hands out no time when the wall clock steps back', () => {
    const { time, clock } = manualClock()
    const ticket = clock.start()
    time.ms -= 5_000
    expect(ticket.end()).toBe(0)
  })

  it('matches brute force on random intervals: each share, and their sum equals the union', () => {
    const interval = fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 3_000 })).map(([s, d]) => [s, s + d] as const)
    fc.assert(
      fc.property(fc.array(interval, { minLength: 1, maxLength: 40 }), (intervals) => {
        const shares = sharesByClock(intervals)
        const expected = sharesBySlicing(intervals)
        for (const [i, share] of shares.entries()) expect(share).toBeCloseTo(expected[i]!, 6)
        expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(unionMs(intervals), 6)
      }),
      { numRuns: 300 },
    )
  })
})
