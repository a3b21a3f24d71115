import { describe, expect, it } from 'vitest'
import { LastUsedTracker } from '../../src/auth/last-used.js'
import type { Logger } from '../../src/log.js'

function tracker(opts: { fail?: boolean } = {}) {
  let nowMs = 1_000_000
  const writes: Array<[string, number]> = []
  const errors: string[] = []
  const log: Logger = { info() {}, warn() {}, error: (msg) => errors.push(msg) }
  const t = new LastUsedTracker({
    write: async (keyId, atMs) => {
      if (opts.fail) throw new Error('database down')
      writes.push([keyId, atMs])
    },
    log,
    now: () => nowMs,
  })
  return { t, writes, errors, advance: (ms: number) => (nowMs += ms) }
}

describe('the last_used_at throttle', () => {
  it('writes at most once a minute per key', async () => {
    const { t, writes, advance } = tracker()
    await t.touch('key_a')
    expect(t.touch('key_a')).toBeUndefined()
    advance(59_999)
    expect(t.touch('key_a')).toBeUndefined()
    await t.touch('key_b') // other keys are independent
    advance(1)
    await t.touch('key_a')
    expect(writes).toEqual([['key_a', 1_000_000], ['key_b', 1_059_999], ['key_a', 1_060_000]])
  })

  it('logs a failed write without rejecting, and tries again on the next use', async () => {
    const { t, errors } = tracker({ fail: true })
    await expect(t.touch('key_a')).resolves.toBeUndefined()
    expect(errors).toEqual(['last_used_at write failed'])
    expect(t.touch('key_a')).toBeDefined()
  })
})
