/**
 * The context's sequences, one per running request. A request gets the free sequence whose cached
 * tokens share the longest prefix with its prompt, so multi-turn chats and shared system prompts
 * skip re-evaluating what a sequence already holds.
 *
 * Among equally good prefixes it takes the one that keeps the busy sequence ids consecutive. llama.cpp
 * gives each sequence its own KV stream (node-llama-cpp 3.21.1 leaves kv_unified off), and then splits a
 * decode batch into one micro-batch per run of consecutive, ascending sequence ids
 * (llama_batch_allocr::split_equal, "accept only increasing sequence ids"): sequences 0 and 2 decode
 * as two graph runs, each reading every weight again, where 0 and 1 decode as one. Measured on the F16
 * llama-moe bench model, 4 tokens took 9.6 ms as sequences [0,1,2,3] and 17 ms as [3,2,1,0].
 */
import type { LlamaContextSequence, Token } from 'node-llama-cpp'

export interface SequenceLease {
  sequence: LlamaContextSequence
  /** The sequence's id in its context: sequences are created in id order, so it is their index. */
  sequenceId: number
  /** Prompt tokens already in the sequence's KV cache; evaluation starts after them. */
  cachedTokens: number
  release(): void
}

export interface SequencePool {
  /** Throws when none is free (the slot queue in front guarantees one is). */
  take(promptTokens: readonly Token[]): Promise<SequenceLease>
  readonly freeCount: number
}

/** `sequences` in the order the context made them (getSequence() hands out ids 0, 1, 2, ...). */
export function createSequencePool(sequences: LlamaContextSequence[]): SequencePool {
  const busy = new Set<number>()
  return {
    get freeCount() {
      return sequences.length - busy.size
    },
    async take(promptTokens) {
      if (busy.size === sequences.length) throw new Error('no free sequence: the slot queue admitted too many requests')
      let best = -1
      let bestShared = -1
      let bestRuns = Infinity
      sequences.forEach((sequence, id) => {
        if (busy.has(id)) return
        const shared = sequence.compareContextTokens(promptTokens as Token[]).firstDifferentIndex
        const runs = consecutiveRuns(busy, id)
        if (shared > bestShared || (shared === bestShared && runs < bestRuns)) {
          best = id
          bestShared = shared
          bestRuns = runs
        }
      })
      const sequence = sequences[best]!
      busy.add(best)
      // Evaluate at least the last prompt token again: its logits pick the first reply token.
      const cachedTokens = Math.max(0, Math.min(bestShared, promptTokens.length - 1))
      try {
        if (sequence.nextTokenIndex > cachedTokens) await sequence.eraseContextTokenRanges([{ start: cachedTokens, end: sequence.nextTokenIndex }])
      } catch (err) {
        busy.delete(best)
        throw err
      }
      let released = false
      return {
        sequence,
        sequenceId: best,
        cachedTokens,
        release() {
          if (released) return
          released = true
          busy.delete(best)
        },
      }
    },
  }
}

/** Runs of consecutive ids the busy set would have with `id` added: the micro-batches a step takes. */
export function consecutiveRuns(busy: ReadonlySet<number>, id: number): number {
  const ids = [...busy, id].sort((a, b) => a - b)
  return ids.filter((v, i) => i === 0 || v !== ids[i - 1]! + 1).length
}
