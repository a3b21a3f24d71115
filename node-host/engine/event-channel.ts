/**
 * A one-producer, one-consumer queue of events: the decode loop pushes without waiting for the
 * consumer (the SSE write), so a slow socket write never delays the next decode step.
 * Unbounded on purpose: a reply is at most the context size in tokens.
 *
 * A waiting consumer is woken two macrotasks later, not in the pusher's microtasks: the decode loop
 * pushes right after requesting the next token, and node-llama-cpp reaches decodeBatch through a chain
 * of awaits, so waking the consumer at once would run its work (chunk JSON, res.write) before the decode
 * is handed to the worker thread instead of alongside it. One macrotask is not enough when the context
 * has idle sequences: node-llama-cpp then dispatches the batch from a setImmediate of its own
 * (LlamaContext._scheduleDecode, "nextCycle"), queued after ours; the second hop lands after it.
 */

export interface EventChannel<T> {
  push(item: T): void
  /** Ends the stream; with an error, the consumer's next pull throws it. */
  close(error?: unknown): void
  [Symbol.asyncIterator](): AsyncIterator<T>
}

export function createEventChannel<T>(): EventChannel<T> {
  const items: T[] = []
  let closed = false
  let failure: { error: unknown } | undefined
  let wake: (() => void) | undefined
  let wakeScheduled = false
  const notify = () => {
    if (!wake || wakeScheduled) return
    wakeScheduled = true
    setImmediate(() =>
      setImmediate(() => {
        wakeScheduled = false
        const resume = wake
        wake = undefined
        resume?.()
      }),
    )
  }
  return {
    push(item) {
      if (closed) return
      items.push(item)
      notify()
    },
    close(error) {
      if (closed) return
      closed = true
      if (error !== undefined) failure = { error }
      notify()
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (items.length > 0) {
          yield items.shift()!
          continue
        }
        if (closed) {
          if (failure) throw failure.error
          return
        }
        await new Promise<void>((resolve) => (wake = resolve))
      }
    },
  }
}
