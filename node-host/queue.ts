/**
 * Admission control: `slotsTotal` requests run at once (one context sequence each); the rest wait in a
 * bounded FIFO line. A full line is refused at once, so the gateway can fall back instead of waiting.
 */

export interface SlotLease {
  /** Gives the slot to the next in line. Idempotent. */
  release(): void
}

export interface SlotQueue {
  readonly slotsTotal: number
  readonly slotsBusy: number
  readonly queueDepth: number
  readonly maxQueue: number
  /**
   * Takes a slot now or a place in line. Returns undefined when the line is full. The promise rejects with
   * the signal's reason if `signal` aborts while waiting (the place in line is given up).
   */
  enter(signal?: AbortSignal): Promise<SlotLease> | undefined
}

interface Waiter {
  grant(lease: SlotLease): void
}

export function createSlotQueue(opts: { slots: number; maxQueue: number }): SlotQueue {
  if (!(opts.slots >= 1)) throw new Error('slots must be at least 1')
  if (!(opts.maxQueue >= 0)) throw new Error('maxQueue must be at least 0')
  let busy = 0
  const line: Waiter[] = []

  const newLease = (): SlotLease => {
    let released = false
    return {
      release() {
        if (released) return
        released = true
        const next = line.shift()
        if (next) next.grant(newLease())
        else busy--
      },
    }
  }

  return {
    slotsTotal: opts.slots,
    maxQueue: opts.maxQueue,
    get slotsBusy() {
      return busy
    },
    get queueDepth() {
      return line.length
    },
    enter(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason)
      if (busy < opts.slots) {
        busy++
        return Promise.resolve(newLease())
      }
      if (line.length >= opts.maxQueue) return undefined
      return new Promise<SlotLease>((resolve, reject) => {
        const onAbort = () => {
          const at = line.indexOf(waiter)
          if (at >= 0) line.splice(at, 1)
          reject(signal?.reason)
        }
        const waiter: Waiter = {
          grant(lease) {
            signal?.removeEventListener('abort', onAbort)
            resolve(lease)
          },
        }
        line.push(waiter)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
  }
}
