/**
 * Lines up the running sequences so node-llama-cpp decodes their next tokens in one batch.
 *
 * Why: LlamaContext.dispatchPendingBatch (node-llama-cpp 3.21.1, dist/evaluator/LlamaContext/
 * LlamaContext.js) holds the context lock and loops `while (this._queuedDecodes.length > 0)`,
 * decoding at once whatever is queued. Each sequence samples asynchronously and queues its next token
 * whenever its consumer gets round to it, so sequences drift out of phase and then ping-pong: A decodes
 * alone while B queues, B alone while A queues (2 streams: batches of 1 token). The loop never empties
 * the queue while 3 sequences alternate, so it never releases the lock, and a 4th request's
 * eraseContextTokenRanges (which takes the same lock) waits until the other three finish.
 *
 * A member that has a token in hand waits here until every member is ready for its next token, then all
 * are released together in one later macrotask: their decodes are queued in the same tick (one batch),
 * and the dispatch loop has found an empty queue and released the lock in between, letting erases and
 * new prompts in. A member is either here, doing synchronous work on its token, or decoding, so the wait
 * is at most one decode step; the timeout only guards against a member that never arrives (a bug).
 *
 * A lone member with no request being admitted is released at once: there is nothing to batch with
 * and nobody waiting for the lock, and the macrotask hop would only add latency to every token.
 *
 * Members are released in ascending sequence id, so their decodes are queued, and the batch is built, in
 * that order: llama.cpp decodes a batch as one graph run only where its sequence ids ascend one by one
 * (see sequence-pool.ts); [3,2,1,0] would be four runs.
 */

const STRAGGLER_TIMEOUT_MS = 1000
const RESOLVED = Promise.resolve()

export interface BatchGate {
  /** Joins once the sequence has its first token (a prompt still being evaluated is not waited for); members are released in ascending `sequenceId`. */
  join(sequenceId?: number): GateMember
  /** Runs a request's admission (taking a sequence erases its old tokens under the context lock); meanwhile every step yields the lock. */
  admit<T>(take: () => Promise<T>): Promise<T>
}

export interface GateMember {
  /** Resolves when every member is ready to queue its next token. */
  ready(): Promise<void>
  /** Leaves for good (finished, stopped or aborted); idempotent. */
  leave(): void
}

export function createBatchGate(): BatchGate {
  const members = new Set<object>()
  let waiting: Array<{ member: object; order: number; release: () => void }> = []
  let timer: NodeJS.Timeout | undefined
  let admitting = 0

  const releaseAll = () => {
    clearTimeout(timer)
    timer = undefined
    const released = waiting.sort((a, b) => a.order - b.order)
    waiting = []
    if (members.size === 1 && admitting === 0) return released.forEach((w) => w.release())
    // A macrotask later: node-llama-cpp's dispatch loop checks its queue in microtasks after the batch.
    setImmediate(() => released.forEach((w) => w.release()))
  }
  const releaseIfAllWaiting = () => {
    if (waiting.length > 0 && waiting.length >= members.size) releaseAll()
  }

  return {
    async admit(take) {
      admitting++
      try {
        return await take()
      } finally {
        admitting--
      }
    },
    join(sequenceId = 0) {
      const member = {}
      members.add(member)
      return {
        ready() {
          // The lone-member case is every token of a single stream: no promise or straggler timer per token.
          if (!members.has(member) || (members.size === 1 && admitting === 0 && waiting.length === 0)) return RESOLVED
          return new Promise<void>((release) => {
            waiting.push({ member, order: sequenceId, release })
            timer ??= setTimeout(releaseAll, STRAGGLER_TIMEOUT_MS)
            releaseIfAllWaiting()
          })
        },
        leave() {
          if (!members.delete(member)) return
          const mine = waiting.filter((w) => w.member === member)
          waiting = waiting.filter((w) => w.member !== member)
          mine.forEach((w) => w.release())
          releaseIfAllWaiting()
        },
      }
    },
  }
}
