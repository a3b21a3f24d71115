/** The batch gate releases a decode step only when every running sequence is ready for it. */
import { describe, expect, it } from 'vitest'
import { createBatchGate } from '../../node-host/engine/batch-gate.js'

const settled = async (p: Promise<void>) => {
  let done = false
  void p.then(() => (done = true))
  await new Promise((r) => setTimeout(r, 5))
  return done
}

describe('batch gate', () => {
  it('holds the first member until the second is ready too, then releases both', async () => {
    const gate = createBatchGate()
    const a = gate.join()
    const b = gate.join()
    const aReady = a.ready()
    expect(await settled(aReady)).toBe(false)
    const bReady = b.ready()
    expect(await settled(aReady)).toBe(true)
    expect(await settled(bReady)).toBe(true)
  })

  it('lets the others go when a member leaves instead of arriving', async () => {
    const gate = createBatchGate()
    const a = gate.join()
    const b = gate.join()
    const aReady = a.ready()
    b.leave()
    expect(await settled(aReady)).toBe(true)
    b.leave() // idempotent
    expect(await settled(b.ready())).toBe(true)
  })

  it('never waits for a lone member', async () => {
    const gate = createBatchGate()
    expect(await settled(gate.join().ready())).toBe(true)
  })
})
