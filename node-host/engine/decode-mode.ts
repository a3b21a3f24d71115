/**
 * Whether concurrent sequences decode their next tokens in one batch or one at a time, chosen by what
 * each costs here. A k-token step should cost less than k one-token steps (weights are read once for
 * all k), but llama.cpp's CPU kernels do not always deliver that: on a compute-bound model its
 * multi-column matmul path (llamafile tinyBLAS for Q8_0) makes a 2-token step cost ~2.6x a 1-token one
 * (perf; node-host/README.md, Streaming and continuous batching), so two streams decoded together get less than one alone.
 *
 * Measured, not guessed: for each number of concurrent streams the gate alternates the two modes for a
 * few steps, timing each (release to every released member ready again) as cost per token, and keeps
 * the cheaper, switching only on a clear margin. It measures both again every REMEASURE_EVERY steps,
 * so a change in load or context length is noticed.
 */

export type DecodeMode = 'batched' | 'serial'
/** `auto` measures; the others are fixed (node-host serve --batching). */
export type BatchingPolicy = 'auto' | DecodeMode

/**
 * Counted steps of each mode per measurement, taken in alternating blocks of BLOCK steps so both see
 * the same load on a shared box; a block's first step is not counted.
 */
export const MEASUREMENT = { samples: 8, block: 5 } as const
const { samples: SAMPLES, block: BLOCK } = MEASUREMENT
/** Steps in the chosen mode before measuring both again. */
const REMEASURE_EVERY = 512
/** The other mode must be this much cheaper per token before we switch. */
const SWITCH_MARGIN = 0.9

export const BATCHING_POLICIES: readonly BatchingPolicy[] = ['auto', 'batched', 'serial']

export function isBatchingPolicy(value: string): value is BatchingPolicy {
  return (BATCHING_POLICIES as readonly string[]).includes(value)
}

export interface ModeChange {
  mode: DecodeMode
  streams: number
  /** Median ms per token of each mode at this stream count, as measured. */
  batchedMsPerToken: number
  serialMsPerToken: number
}

export interface DecodeModeChooser {
  /** The mode for the next step when `streams` sequences are decoding. */
  next(streams: number): DecodeMode
  /** The step the latest next() chose, of `tokens` tokens (one per released sequence), took `ms`. */
  record(mode: DecodeMode, tokens: number, ms: number): void
  /** The policy, and the mode chosen so far for each number of concurrent streams (for /health). */
  describe(): BatchingState
}

export interface BatchingState {
  policy: BatchingPolicy
  /** Stream count -> mode in use; with a fixed policy, empty. */
  chosen: Record<string, DecodeMode>
}

export function createDecodeModeChooser(policy: BatchingPolicy = 'auto', onChange: (change: ModeChange) => void = () => {}): DecodeModeChooser {
  if (policy !== 'auto') return { next: () => policy, record: () => {}, describe: () => ({ policy, chosen: {} }) }
  const byStreams = new Map<number, StreamsState>()
  let current: StreamsState | undefined

  const measuring = (s: StreamsState) => !s.chosen || s.stepsSinceMeasured >= REMEASURE_EVERY

  return {
    next(streams) {
      if (streams < 2) {
        // A lone stream's step (released so an admission gets the lock) is no sample of either mode.
        current = undefined
        return 'serial'
      }
      const s = (current = byStreams.get(streams) ?? newState(byStreams, streams))
      if (!measuring(s)) {
        s.stepsSinceMeasured++
        return s.chosen!
      }
      // Alternating blocks, batched first, until each mode has its samples; a block's first step, a
      // change of batch shape, is not counted.
      const mode: DecodeMode = Math.floor(s.measuredSteps / BLOCK) % 2 === 0 ? 'batched' : 'serial'
      s.counted = s.measuredSteps++ % BLOCK !== 0
      return mode
    },
    record(mode, tokens, ms) {
      const s = current
      if (!s || !measuring(s) || !s.counted || !(ms >= 0)) return
      // A batch short of a sequence (one left, or a straggler) is not the cost of this many streams.
      if (mode === 'batched' ? tokens !== s.streams : tokens !== 1) return
      ;(mode === 'serial' ? s.serial : s.batched).push(ms / tokens)
      if (s.batched.length < SAMPLES || s.serial.length < SAMPLES) return
      const batchedCost = median(s.batched)
      const serialCost = median(s.serial)
      const chosen: DecodeMode = (s.chosen ?? 'batched') === 'batched' ? (serialCost < batchedCost * SWITCH_MARGIN ? 'serial' : 'batched') : batchedCost < serialCost * SWITCH_MARGIN ? 'batched' : 'serial'
      if (chosen !== s.chosen) onChange({ mode: chosen, streams: s.streams, batchedMsPerToken: batchedCost, serialMsPerToken: serialCost })
      s.chosen = chosen
      s.stepsSinceMeasured = 0
      s.measuredSteps = 0
      s.batched = []
      s.serial = []
    },
    describe() {
      const chosen: Record<string, DecodeMode> = {}
      for (const s of byStreams.values()) if (s.chosen) chosen[String(s.streams)] = s.chosen
      return { policy, chosen }
    },
  }
}

/** What is known for one number of concurrent streams. */
interface StreamsState {
  streams: number
  chosen?: DecodeMode
  stepsSinceMeasured: number
  /** Steps taken in the current measurement, and whether the latest one counts. */
  measuredSteps: number
  counted: boolean
  batched: number[]
  serial: number[]
}

function newState(map: Map<number, StreamsState>, streams: number): StreamsState {
  const s: StreamsState = { streams, stepsSinceMeasured: 0, measuredSteps: 0, counted: false, batched: [], serial: [] }
  map.set(streams, s)
  return s
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The `decode.mode` log line's fields. */
export function modeChangeFields(change: ModeChange): Record<string, string | number> {
  return { mode: change.mode, streams: change.streams, batched_ms_per_token: round3(change.batchedMsPerToken), serial_ms_per_token: round3(change.serialMsPerToken) }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000
