/**
 * Times many operations on a shared, noisy machine: every round runs each operation once,
 * round-robin, starting one further along each round (and reversed every other round), so a
 * burst of load lands on different operations instead of on one of them.
 */
import { percentile } from '../support.js'

export interface TimedOp {
  name: string
  run: () => Promise<unknown>
}

export interface Timings {
  p50: number
  p95: number
  max: number
  samples: number
}

/** The order of round `r`: rotated by r, reversed on odd rounds. */
export function roundOrder<T>(ops: readonly T[], r: number): T[] {
  const k = r % Math.max(1, ops.length)
  const rotated = [...ops.slice(k), ...ops.slice(0, k)]
  return r % 2 === 1 ? rotated.reverse() : rotated
}

/**
 * Milliseconds of each op over `rounds` interleaved rounds, after `warmup` unrecorded ones (JIT,
 * statement preparation, the OS page cache). `onRound` reports progress.
 */
export async function sampleInterleaved(ops: readonly TimedOp[], opts: { rounds: number; warmup?: number; onRound?: (done: number) => void }): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(ops.map((op) => [op.name, []]))
  const warmup = opts.warmup ?? 1
  for (let r = 0; r < warmup + opts.rounds; r++) {
    for (const op of roundOrder(ops, r)) {
      const started = performance.now()
      await op.run()
      const ms = performance.now() - started
      if (r >= warmup) samples.get(op.name)!.push(ms)
    }
    if (r >= warmup) opts.onRound?.(r - warmup + 1)
  }
  return samples
}

export function timingsOf(ms: readonly number[]): Timings {
  return { p50: percentile([...ms], 50), p95: percentile([...ms], 95), max: Math.max(...ms), samples: ms.length }
}
