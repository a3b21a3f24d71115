/**
 * The context's sequences, one per running request. A request gets the free sequence whose cached
 * tokens share the longest prefix with its prompt, so multi-turn chats and shared system prompts
 * skip re-evaluating what a sequence already holds.
 */
import type { LlamaContextSequence, Token } from 'node-llama-cpp'

export interface SequenceLease {
  sequence: LlamaContextSequence
  /** Prompt tokens already in the sequence's KV cache; evaluation starts after them. */
  cachedTokens: number
  release(): void
}

export interface SequencePool {
  /** Throws when none is free (the slot queue in front guarantees one is). */
  take(promptTokens: readonly Token[]): Promise<SequenceLease>
  readonly freeCount: number
}

export function createSequencePool(sequences: LlamaContextSequence[]): SequencePool {
  const free = [...sequences]
  return {
    get freeCount() {
      return free.length
    },
    async take(promptTokens) {
      if (free.length === 0) throw new Error('no free sequence: the slot queue admitted too many requests')
      let best = 0
      let bestShared = -1
      free.forEach((sequence, i) => {
        const shared = sequence.compareContextTokens(promptTokens as Token[]).firstDifferentIndex
        if (shared > bestShared) {
          best = i
          bestShared = shared
        }
      })
      const sequence = free.splice(best, 1)[0]!
      // Evaluate at least the last prompt token again: its logits pick the first reply token.
      const cachedTokens = Math.max(0, Math.min(bestShared, promptTokens.length - 1))
      try {
        if (sequence.nextTokenIndex > cachedTokens) await sequence.eraseContextTokenRanges([{ start: cachedTokens, end: sequence.nextTokenIndex }])
      } catch (err) {
        free.push(sequence)
        throw err
      }
      let released = false
      return {
        sequence,
        cachedTokens,
        release() {
          if (released) return
          released = true
          free.push(sequence)
        },
      }
    },
  }
}
