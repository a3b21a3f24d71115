/**
 * Continuous batching: aggregate decode tok/s of 1, 2 and 4 concurrent streams on one node-host with
 * --parallel 4 (one context) and --batching auto (the streams' tokens decoded in shared batches or one
 * at a time, whichever node-host measures faster: node-host/engine/decode-mode.ts), 1 thread, each
 * stream kept long by the grammar. Aggregate = every token after the first over the time from the first token of any
 * stream to the last of any (prompts are cached after warm-up, so this is decode). A stream that only
 * starts once others finish lowers it, and shows as a large first-token stagger.
 *
 * Beside it, per round: the same on a node-host with --batching batched, the ceiling expert overlap allows (node-host's own 1-stream rate x k x the bytes
 * one token reads / the bytes a k-token step reads, node-host/inspect/batching.ts), and what llama.cpp
 * gives k streams driven directly in lock step (bench/llama-lockstep.ts), batched and one at a time,
 * which tells node-host's share of a gap from the engine's. And the ceiling once more where each token also
 * multiplies its own weights (inspect's step model, node-host/inspect/compute-model.ts, from this machine's
 * bandwidth and kernel speeds): on a compute-bound machine overlap saves reading, not multiplying.
 */
import { readGgufHeader } from '../node-host/gguf/reader.js'
import { ensureTestModel } from '../node-host/gguf/test-models.js'
import type { WeightQuant } from '../node-host/gguf/tensor-specs.js'
import { modelFacts } from '../node-host/cpu/model-facts.js'
import { measureReadBandwidth } from '../node-host/inspect/bandwidth.js'
import { bytesReadPerStep } from '../node-host/inspect/batching.js'
import { computeProfile, predictBatchedStep } from '../node-host/inspect/compute-model.js'
import { measureCompute } from '../node-host/inspect/compute-probe.js'
import { weightStats } from '../node-host/inspect/model-stats.js'
import { openLockstep, type Lockstep } from './llama-lockstep.js'
import { signingKey, streamChat, tokensPerSecondBetween } from './node-host-client.js'
import { BENCH_CONTEXT_TOKENS, spawnNodeHost, type SpawnedServer } from './node-host-spawn.js'
import { fmt, spread } from './support.js'

const CONCURRENCIES = [1, 2, 4] as const

/** All streams' token times merged: for one stream this is exactly its own first-to-last rate. */
export function aggregateTokensPerSecond(streams: ReadonlyArray<readonly number[]>): number {
  return tokensPerSecondBetween(streams.flat().sort((a, b) => a - b))
}

/** Latest first token minus earliest: ~0 when all streams decode together. */
export function firstTokenStaggerMs(streams: ReadonlyArray<readonly number[]>): number {
  const firsts = streams.map((t) => t[0]!)
  return Math.max(...firsts) - Math.min(...firsts)
}

interface ModelRun {
  quant: WeightQuant
  server: SpawnedServer
  /** The same model on node-host with --batching batched: what measuring the mode buys. */
  alwaysBatched: SpawnedServer
  engine: Lockstep
  /** k x bytes one token reads / bytes a k-token step reads: the most k streams can gain from expert overlap. */
  ceilingSpeedup: Record<number, number>
  /** The same from inspect's step model, where every token is also multiplied: k-token step vs one-token step. */
  computeCeilingSpeedup: Record<number, number>
  aggregate: Record<number, number[]>
  alwaysBatchedAggregate: Record<number, number[]>
  engineAggregate: Record<number, number[]>
  /** llama.cpp alone, the k sequences decoded one after another in each step. */
  engineSerial: Record<number, number[]>
  stagger: Record<number, number[]>
}

const perConcurrency = (): Record<number, number[]> => ({ 1: [], 2: [], 4: [] })

export async function benchNodeHostBatching(opts: { rounds?: number; maxTokens?: number; quants?: WeightQuant[] } = {}): Promise<{ rows: string[][] }> {
  const rounds = opts.rounds ?? 5
  const maxTokens = opts.maxTokens ?? 128
  const runs: ModelRun[] = []
  try {
    // inspect uses the best pass as the machine's bound; so do we.
    const bytesPerSecond = measureReadBandwidth({ budgetMs: 1000 }).bestGBs * 1e9
    for (const quant of opts.quants ?? ['q8_0', 'f16']) {
      const model = await ensureTestModel({ layout: 'llama-moe', size: 'bench', quant })
      const header = await readGgufHeader(model)
      const weights = weightStats(header)
      const ceilingSpeedup = Object.fromEntries(CONCURRENCIES.map((k) => [k, (k * bytesReadPerStep(weights, 1)) / bytesReadPerStep(weights, k)]))
      const profile = computeProfile(await measureCompute({ weights, storageType: modelFacts(header).storageType }))
      const stepRate = (k: number) => predictBatchedStep(weights, bytesPerSecond, profile, k).tokensPerSecond
      const computeCeilingSpeedup = Object.fromEntries(CONCURRENCIES.map((k) => [k, stepRate(k) / stepRate(1)]))
      const server = await spawnNodeHost(model, { threads: 1, parallel: 4 })
      const alwaysBatched = await spawnNodeHost(model, { threads: 1, parallel: 4, batching: 'batched' })
      const engine = await openLockstep(model, { threads: 1, sequences: 4, contextSize: BENCH_CONTEXT_TOKENS })
      runs.push({ quant, server, alwaysBatched, engine, ceilingSpeedup, computeCeilingSpeedup, aggregate: perConcurrency(), alwaysBatchedAggregate: perConcurrency(), engineAggregate: perConcurrency(), engineSerial: perConcurrency(), stagger: perConcurrency() })
    }
    const key = await signingKey()
    const concurrent = async (server: SpawnedServer, n: number, round: number) => {
      const streams = await Promise.all(Array.from({ length: n }, (_, i) => streamChat(server.url, key, { maxTokens, seed: round * 10 + i })))
      const times = streams.map((s) => s.tokenTimesMs)
      return { aggregate: aggregateTokensPerSecond(times), stagger: firstTokenStaggerMs(times) }
    }
    for (const run of runs) {
      // Warm-up: every sequence caches the prompt prefix (and auto measures its modes at 2 and 4 streams).
      for (const server of [run.server, run.alwaysBatched]) for (const n of [4, 2]) await concurrent(server, n, 1000)
      await run.engine.tokensPerSecond(4, 16, 1000)
    }

    for (let r = 0; r < rounds; r++) {
      for (const run of r % 2 === 0 ? runs : [...runs].reverse()) {
        for (const n of r % 2 === 0 ? CONCURRENCIES : [...CONCURRENCIES].reverse()) {
          // The two node-hosts in alternating order, one right after the other.
          const alwaysBatched = () => (n > 1 ? concurrent(run.alwaysBatched, n, r).then((m) => run.alwaysBatchedAggregate[n]!.push(m.aggregate)) : undefined)
          if (r % 2 === 1) await alwaysBatched()
          const measured = await concurrent(run.server, n, r)
          if (r % 2 === 0) await alwaysBatched()
          run.aggregate[n]!.push(measured.aggregate)
          run.stagger[n]!.push(measured.stagger)
          run.engineAggregate[n]!.push(await run.engine.tokensPerSecond(n, maxTokens - 1, r))
          if (n > 1) run.engineSerial[n]!.push(await run.engine.tokensPerSecond(n, maxTokens - 1, r, 'serial'))
        }
      }
    }
    return { rows: runs.flatMap((run) => CONCURRENCIES.map((n) => row(run, n))) }
  } finally {
    for (const run of runs.reverse()) {
      await run.server.stop()
      await run.alwaysBatched.stop()
      await run.engine.close()
    }
  }
}

function row(run: ModelRun, n: number): string[] {
  const perRound = (f: (r: number) => number) => run.aggregate[n]!.map((_, r) => f(r))
  const speedup = perRound((r) => run.aggregate[n]![r]! / run.aggregate[1]![r]!)
  const engineSpeedup = perRound((r) => run.engineAggregate[n]![r]! / run.engineAggregate[1]![r]!)
  const vsAlwaysBatched = perRound((r) => run.aggregate[n]![r]! / run.alwaysBatchedAggregate[n]![r]!)
  const engineSerialSpeedup = perRound((r) => run.engineSerial[n]![r]! / run.engineAggregate[1]![r]!)
  // Against the faster of llama.cpp's two ways to run k streams: node-host picks one of them too.
  const vsEngine = perRound((r) => run.aggregate[n]![r]! / Math.max(run.engineAggregate[n]![r]!, run.engineSerial[n]![r] ?? 0))
  const ceiling = run.ceilingSpeedup[n]!
  const computeCeiling = run.computeCeilingSpeedup[n]!
  const label = run.quant === 'q8_0' ? String(n) : `${n} (${run.quant.toUpperCase()})`
  const versus =
    n === 1
      ? `1.00x; node-host ${spread(vsEngine, 2)} of llama.cpp alone`
      : `${spread(speedup, 2)}x = ${spread(speedup.map((s) => s / ceiling), 2)} of the expert-overlap ceiling ${fmt(ceiling, 2)}x (target >= 0.9), ` +
        `${spread(speedup.map((s) => s / computeCeiling), 2)} of ${fmt(computeCeiling, 2)}x with each token's multiplies (inspect's step model); ` +
        `${spread(vsAlwaysBatched, 2)}x node-host --batching batched; ` +
        `llama.cpp alone ${spread(engineSpeedup, 2)}x batched, ${spread(engineSerialSpeedup, 2)}x one at a time; node-host ${spread(vsEngine, 2)} of the faster`
  return [
    label,
    `${spread(run.aggregate[n]!, 1)}; llama.cpp alone ${spread(run.engineAggregate[n]!, 1)}`,
    spread(run.aggregate[n]!.map((v) => v / n), 1),
    versus,
    n === 1 ? '-' : spread(run.stagger[n]!, 0),
  ]
}
