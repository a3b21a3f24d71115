import { describe, expect, it } from 'vitest'
import { NODE_HOST_BACKOFF, ranHealthy, restartDelayMs } from '../../scripts/restart-backoff.js'

describe('node-host restart backoff', () => {
  it('doubles from 1 s and stays at 30 s', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 50, 2000].map((failures) => restartDelayMs(NODE_HOST_BACKOFF, failures))
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000])
  })

  it('starts over only after a run that served for a minute after it was ready', () => {
    expect(ranHealthy(NODE_HOST_BACKOFF, 1000, 61_000)).toBe(true)
    expect(ranHealthy(NODE_HOST_BACKOFF, 1000, 60_999)).toBe(false)
    expect(ranHealthy(NODE_HOST_BACKOFF, undefined, 10_000_000)).toBe(false)
  })
})
