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
 *
 * Where one batch of k tokens costs more than k single decodes (decode-mode.ts measures it), the gate
 * releases one member at a time instead, in arrival order (round robin), each once the last is back.
 */

import { createDecodeModeChooser, type BatchingState, type DecodeMode, type DecodeModeChooser } from './decode-mode.js'

const STRAGGLER_TIMEOUT_MS = 1000
const RESOLVED = Promise.resolve()

export interface BatchGate {
  /** Joins once the sequence has its first token (a prompt still being evaluated is not waited for); members are released in ascending `sequenceId`. */
  join(sequenceId?: number): GateMember
  /** Runs a request's admission (taking a sequence erases its old tokens under the context lock); meanwhile every step yields the lock. */
  admit<T>(take: () => Promise<T>): Promise<T>
  /** Batched or one at a time, per number of streams (decode-mode.ts). */
  batching(): BatchingState
}

export interface GateMember {
  /**
   * Resolves when this member may queue its next token: with the others (batched) or on its turn
   * (serial). `onHold` runs at once if the member must first wait for another sequence's decode.
   */
  ready(onHold?: () => void): Promise<void>
  /** Leaves for good (finished, stopped or aborted); idempotent. */
  leave(): void
}

interface Waiter {
  member: object
  order: number
  release: () => void
}

/** A released step: timed from release until every member in it is back. */
interface Step {
  mode: DecodeMode
  startedAt: number
  tokens: number
  /** False once a member left instead of coming back: its token is not in the step's cost. */
  whole: boolean
}

export function createBatchGate(chooser: DecodeModeChooser = createDecodeModeChooser()): BatchGate {
  const members = new Set<object>()
  const inFlight = new Set<object>()
  let waiting: Waiter[] = []
  let timer: NodeJS.Timeout | undefined
  let admitting = 0
  let step: Step | undefined
  let lastMode: DecodeMode = 'batched'
  // Chosen once per step, when the last one is over, so the chooser counts steps, not calls.
  let nextMode: DecodeMode | undefined
  // A lone stream with no request being admitted: nothing to batch with or yield the lock to.
  const alone = () => members.size === 1 && admitting === 0

  const release = (batch: Waiter[], mode: DecodeMode) => {
    clearTimeout(timer)
    timer = undefined
    nextMode = undefined
    lastMode = mode
    const ids = new Set(batch.map((w) => w.member))
    waiting = waiting.filter((w) => !ids.has(w.member))
    if (alone()) return batch.forEach((w) => w.release())
    for (const w of batch) inFlight.add(w.member)
    const thisStep: Step = { mode, startedAt: 0, tokens: batch.length, whole: true }
    step = thisStep
    // A macrotask later: node-llama-cpp's dispatch loop checks its queue in microtasks after the batch.
    setImmediate(() => {
      thisStep.startedAt = performance.now()
      batch.forEach((w) => w.release())
    })
  }
  const stepEnded = () => {
    if (step?.whole && step.startedAt > 0) chooser.record(step.mode, step.tokens, performance.now() - step.startedAt)
    step = undefined
  }
  const pump = () => {
    if (waiting.length === 0 || inFlight.size > 0) return
    if (alone()) return release(waiting, lastMode)
    const mode = (nextMode ??= chooser.next(members.size))
    if (mode === 'serial') return release([waiting[0]!], mode)
    if (waiting.length >= members.size) return release([...waiting].sort((a, b) => a.order - b.order), mode)
    // Waiting for members doing their own work on a token: short, unless one never arrives (a bug).
    // Members still decoding are not timed out: they come back through ready() or leave().
    timer ??= setTimeout(onStraggler, STRAGGLER_TIMEOUT_MS)
  }
  const back = (member: object) => {
    if (inFlight.delete(member) && inFlight.size === 0) stepEnded()
  }
  const onStraggler = () => {
    timer = undefined
    if (waiting.length > 0) release([...waiting].sort((a, b) => a.order - b.order), 'batched')
  }

  return {
    batching: () => chooser.describe(),
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
        ready(onHold) {
          back(member)
          // The lone-member case is every token of a single stream: no promise or straggler timer per token.
          if (!members.has(member) || (alone() && waiting.length === 0)) return RESOLVED
          return new Promise<void>((resolve) => {
            waiting.push({ member, order: sequenceId, release: resolve })
            pump()
            if (lastMode === 'serial' && waiting.some((w) => w.member === member)) onHold?.()
          })
        },
        leave() {
          if (!members.delete(member)) return
          if (inFlight.has(member) && step) step.whole = false
          const mine = waiting.filter((w) => w.member === member)
          waiting = waiting.filter((w) => w.member !== member)
          mine.forEach((w) => w.release())
          back(member)
          pump()
        },
      }
    },
  }
}
