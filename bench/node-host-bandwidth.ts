/**
 * How much of this machine's single-thread read bandwidth node-host's decode uses, and how far `inspect`'s
 * roofline prediction is from it. Weight bytes read per token come from capacityPlan on the GGUF header;
 * decode tok/s is measured from the client (streamed, 1 thread). Each round measures bandwidth first
 * (nothing decoding meanwhile), then each model, so a noisy neighbour hits both sides of the fraction.
 */
import { readGgufHeader } from '../node-host/gguf/reader.js'
import { ensureTestModel } from '../node-host/gguf/test-models.js'
import type { WeightQuant } from '../node-host/gguf/tensor-specs.js'
import { measureReadBandwidth } from '../node-host/inspect/bandwidth.js'
import { capacityPlan } from '../node-host/inspect/plan.js'
import { signingKey, streamNodeHost } from './node-host-client.js'
import { BENCH_CONTEXT_TOKENS, spawnNodeHost, type SpawnedServer } from './node-host-spawn.js'
import { fmt, spread } from './support.js'

interface ModelRun {
  quant: WeightQuant
  bytesPerToken: number
  server: SpawnedServer
  tokensPerSecond: number[]
  /** bytesPerToken x tok/s over the round's bandwidth. */
  bandwidthFraction: number[]
  predictedTokensPerSecond: number[]
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
      const plan = capacityPlan(await readGgufHeader(model), { contextTokens: BENCH_CONTEXT_TOKENS, bandwidthBytesPerSecond: 1 })
      const server = await spawnNodeHost(model, { threads: 1, parallel: 1 })
      runs.push({ quant, bytesPerToken: plan.weights.bytesReadPerToken, server, tokensPerSecond: [], bandwidthFraction: [], predictedTokensPerSecond: [], predictionError: [] })
    }
    const key = await signingKey()
    for (const run of runs) for (let i = 0; i < 2; i++) await streamNodeHost(run.server.url, key, { maxTokens, seed: 1000 + i }) // warm-up

    const bandwidthGBs: number[] = []
    for (let r = 0; r < rounds; r++) {
      // inspect uses the best pass as the machine's bound; so do we.
      const bytesPerSecond = measureReadBandwidth({ budgetMs: opts.bandwidthBudgetMs ?? 1000 }).bestGBs * 1e9
      bandwidthGBs.push(bytesPerSecond / 1e9)
      for (const run of r % 2 === 0 ? runs : [...runs].reverse()) {
        const measured = (await streamNodeHost(run.server.url, key, { maxTokens, seed: r })).tokensPerSecond
        const predicted = bytesPerSecond / run.bytesPerToken
        run.tokensPerSecond.push(measured)
        run.bandwidthFraction.push((run.bytesPerToken * measured) / bytesPerSecond)
        run.predictedTokensPerSecond.push(predicted)
        run.predictionError.push((predicted - measured) / measured)
      }
    }
    const pct = (values: number[]) => spread(values.map((v) => v * 100), 0) + ' %'
    return {
      rows: [
        ...runs.map((run) => [
          `llama-moe bench ${run.quant.toUpperCase()}`,
          fmt(run.bytesPerToken / 1e6, 1),
          spread(run.tokensPerSecond, 1),
          `${pct(run.bandwidthFraction)} (target >= 80)`,
          spread(run.predictedTokensPerSecond, 0),
          pct(run.predictionError),
        ]),
        ['single-thread read bandwidth (GB/s)', '-', spread(bandwidthGBs, 1), `${maxTokens} tokens x ${rounds} rounds, 1 thread`, '-', '-'],
      ],
    }
  } finally {
    for (const run of runs.reverse()) await run.server.stop()
  }
}
