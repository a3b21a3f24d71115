/**
 * Sequences that decode together form one llama.cpp graph run only with consecutive, ascending sequence
 * ids: the pool keeps busy ids consecutive where the prompt cache allows, and the gate releases members
 * (so their decodes are queued) in ascending id.
 */
import type { LlamaContextSequence, Token } from 'node-llama-cpp'
import { describe, expect, it } from 'vitest'
import { createBatchGate } from '../../node-host/engine/batch-gate.js'
import { consecutiveRuns, createSequencePool } from '../../node-host/engine/sequence-pool.js'

/** A sequence holding `cached` tokens; only what the pool calls. */
function fakeSequence(cached: number[]): LlamaContextSequence {
  let tokens = [...cached]
  return {
    get nextTokenIndex() {
      return tokens.length
    },
    compareContextTokens(prompt: Token[]) {
      let i = 0
      while (i < tokens.length && i < prompt.length && tokens[i] === prompt[i]) i++
      return { firstDifferentIndex: i }
    },
    async eraseContextTokenRanges(ranges: Array<{ start: number; end: number }>) {
      tokens = tokens.slice(0, ranges[0]!.start)
    },
  } as unknown as LlamaContextSequence
}

const prompt = [1, 2, 3, 4] as Token[]

describe('sequence pool', () => {
  it('counts the runs of consecutive ids a busy set would have', () => {
    expect(consecutiveRuns(new Set(), 2)).toBe(1)
    expect(consecutiveRuns(new Set([0, 1]), 2)).toBe(1)
    expect(consecutiveRuns(new Set([0, 1]), 3)).toBe(2)
    expect(consecutiveRuns(new Set([0, 2]), 1)).toBe(1)
  })

  it('takes, among equally cached sequences, the one that keeps the busy ids consecutive', async () => {
    const pool = createSequencePool([0, 1, 2, 3].map(() => fakeSequence([1, 2, 3, 9])))
    const first = await pool.take(prompt)
    const second = await pool.take(prompt)
    expect([first.sequenceId, second.sequenceId]).toEqual([0, 1])
    first.release()
    // 0 and 2 both touch 1; 0 comes first. 3 would leave a gap.
    expect((await pool.take(prompt)).sequenceId).toBe(0)
    expect((await pool.take(prompt)).sequenceId).toBe(2)
    expect(pool.freeCount).toBe(1)
  })

  it('still prefers the longest cached prefix over consecutive ids', async () => {
    const pool = createSequencePool([fakeSequence([1, 9]), fakeSequence([]), fakeSequence([]), fakeSequence([1, 2, 3, 4, 5])])
    const lease = await pool.take(prompt)
    expect(lease.sequenceId).toBe(3)
    // The last prompt token is evaluated again: its logits pick the first reply token.
    expect(lease.cachedTokens).toBe(3)
  })
})

describe('batch gate order', () => {
  it('releases members in ascending sequence id whatever order they arrive in', async () => {
    const gate = createBatchGate()
    const members = [2, 0, 1].map((id) => ({ id, member: gate.join(id) }))
    const released: number[] = []
    await Promise.all(members.map(({ id, member }) => member.ready().then(() => released.push(id))))
    expect(released).toEqual([0, 1, 2])
  })
})
