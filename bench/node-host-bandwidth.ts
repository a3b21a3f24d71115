/**
 * How much of this machine's single-thread read bandwidth node-host's decode uses, and how far `inspect`'s
 * prediction is from it. Weight bytes read per token come from capacityPlan on the GGUF header; decode
 * tok/s is measured from the client (streamed, 1 thread). inspect predicts with bandwidth and compute
 * (node-host/inspect/compute-model.ts): each round measures bandwidth first, then per model runs inspect's
 * compute probe and streams a reply, all while nothing else of ours decodes, so a noisy neighbour hits
 * both sides of each comparison. The bandwidth-only roofline is shown beside the prediction.
 */
import { modelFacts } from '../node-host/cpu/model-facts.js'
import { readGgufHeader } from '../node-host/gguf/reader.js'
import { ensureTestModel } from '../node-host/gguf/test-models.js'
import type { WeightQuant } from '../node-host/gguf/tensor-specs.js'
import { measureReadBandwidth } from '../node-host/inspect/bandwidth.js'
import { computeProfile, predictDecodeStep } from '../node-host/inspect/compute-model.js'
import { measureCompute } from '../node-host/inspect/compute-probe.js'
import type { WeightStats } from '../node-host/inspect/model-stats.js'
import { capacityPlan } from '../node-host/inspect/plan.js'
import { signingKey, streamChat } from './node-host-client.js'
import { BENCH_CONTEXT_TOKENS, spawnNodeHost, type SpawnedServer } from './node-host-spawn.js'
import { fmt, spread } from './support.js'

interface ModelRun {
  quant: WeightQuant
  weights: WeightStats
  storageType: string | undefined
  server: SpawnedServer
  tokensPerSecond: number[]
  /** bytesPerToken x tok/s over the round's bandwidth. */
  bandwidthFraction: number[]
  predictedTokensPerSecond: number[]
  rooflineTokensPerSecond: number[]
  bounds: string[]
  /** (predicted - measured) / measured. */
  predictionError: number[]
}

export async function benchNodeHostBandwidth(opts: { quants?: WeightQuant[]; rounds?: number; maxTokens?: number; bandwidthBudgetMs?: number } = {}): Promise<{ rows: string[][] }> {
  const rounds = opts.rounds ?? 5
  const maxTokens = opts.maxTokens ?? 128
  const runs: ModelRun[] = []
  try {
    for (const quant of opts.quants ?? ['q8_0', 'f16']) {
      const model = await ensureTestModel({ layout: 'llama-moe', size: 'bench', quant })
      const header = await readGgufHeader(model)
      const plan = capacityPlan(header, { contextTokens: BENCH_CONTEXT_TOKENS, bandwidthBytesPerSecond: 1 })
      const server = await spawnNodeHost(model, { threads: 1, parallel: 1 })
      runs.push({ quant, weights: plan.weights, storageType: modelFacts(header).storageType, server, tokensPerSecond: [], bandwidthFraction: [], predictedTokensPerSecond: [], rooflineTokensPerSecond: [], bounds: [], predictionError: [] })
    }
    const key = await signingKey()
    for (const run of runs) for (let i = 0; i < 2; i++) await streamChat(run.server.url, key, { maxTokens, seed: 1000 + i }) // warm-up

    const bandwidthGBs: number[] = []
    for (let r = 0; r < rounds; r++) {
      // inspect uses the best pass as the machine's bound; so do we.
      const bytesPerSecond = measureReadBandwidth({ budgetMs: opts.bandwidthBudgetMs ?? 1000 }).bestGBs * 1e9
      bandwidthGBs.push(bytesPerSecond / 1e9)
      for (const run of r % 2 === 0 ? runs : [...runs].reverse()) {
        const profile = computeProfile(await measureCompute({ weights: run.weights, storageType: run.storageType }))
        const predicted = predictDecodeStep(run.weights, bytesPerSecond, profile)
        const measured = (await streamChat(run.server.url, key, { maxTokens, seed: r })).tokensPerSecond
        run.tokensPerSecond.push(measured)
        run.bandwidthFraction.push((run.weights.bytesReadPerToken * measured) / bytesPerSecond)
        run.predictedTokensPerSecond.push(predicted.tokensPerSecond)
        run.rooflineTokensPerSecond.push(bytesPerSecond / run.weights.bytesReadPerToken)
        run.bounds.push(predicted.bound)
        run.predictionError.push((predicted.tokensPerSecond - measured) / measured)
      }
    }
    const pct = (values: number[]) => spread(values.map((v) => v * 100), 0) + ' %'
    return {
      rows: [
        ...runs.map((run) => [
          `llama-moe bench ${run.quant.toUpperCase()}`,
          fmt(run.weights.bytesReadPerToken / 1e6, 1),
          spread(run.tokensPerSecond, 1),
          `${pct(run.bandwidthFraction)} (target >= 80)`,
          `${spread(run.predictedTokensPerSecond, 0)} (${majority(run.bounds)}-bound; bandwidth-only roofline ${spread(run.rooflineTokensPerSecond, 0)})`,
          `${pct(run.predictionError)} (target within ±20)`,
        ]),
        ['single-thread read bandwidth (GB/s)', '-', spread(bandwidthGBs, 1), `${maxTokens} tokens x ${rounds} rounds, 1 thread`, '-', '-'],
      ],
    }
  } finally {
    for (const run of runs.reverse()) await run.server.stop()
  }
}

const majority = (values: string[]): string => [...new Set(values)].sort((a, b) => values.filter((v) => v === b).length - values.filter((v) => v === a).length)[0] ?? '-'
