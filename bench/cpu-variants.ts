/**
 * What the CPU variant costs in decode speed: node-host forced to the best variant this CPU runs
 * (sapphirerapids on an AMX Xeon), to the one `auto` falls back to when the best cannot run a model
 * (the next best), and to the portable x64, on a layout that runs with all of them (llama-moe, bench
 * size), F16 and Q8_0. One node-host process per variant (a process loads one), rounds interleaved.
 */
import { readCpuInfo } from '../node-host/cpu/cpu-info.js'
import { findPrebuiltBins } from '../node-host/cpu/prebuilt-bins.js'
import { PORTABLE_VARIANT, rankVariants } from '../node-host/cpu/variants.js'
import { ensureTestModel } from '../node-host/gguf/test-models.js'
import type { WeightQuant } from '../node-host/gguf/tensor-specs.js'
import { completeNodeHost, signingKey } from './node-host-client.js'
import { spawnNodeHost, type SpawnedServer } from './node-host-spawn.js'
import { spread } from './support.js'

export async function benchCpuVariants(opts: { rounds?: number; maxTokens?: number; quants?: WeightQuant[] } = {}): Promise<{ rows: string[][] }> {
  const rounds = opts.rounds ?? 5
  const maxTokens = opts.maxTokens ?? 96
  const cpu = readCpuInfo()
  const ranked = rankVariants((await findPrebuiltBins()).variants, cpu.flags)
  const [best, fallback] = ranked
  if (!best || !fallback) throw new Error(`this CPU runs ${ranked.length} variant(s): nothing to compare`)
  const variants = [...new Set([best, fallback, PORTABLE_VARIANT])]
  const key = await signingKey()
  const rows: string[][] = []
  for (const quant of opts.quants ?? ['f16', 'q8_0']) {
    const model = await ensureTestModel({ layout: 'llama-moe', size: 'bench', quant })
    const servers: SpawnedServer[] = []
    try {
      for (const cpuVariant of variants) servers.push(await spawnNodeHost(model, { threads: 1, parallel: 1, cpuVariant }))
      for (const s of servers) await completeNodeHost(s.url, key, { maxTokens, seed: 999 }) // warm-up
      const tps: number[][] = variants.map(() => [])
      const vsBest: number[][] = variants.map(() => [])
      for (let r = 0; r < rounds; r++) {
        const order = variants.map((_, i) => i)
        if (r % 2 === 1) order.reverse()
        const round: number[] = []
        for (const i of order) round[i] = (await completeNodeHost(servers[i]!.url, key, { maxTokens, seed: r })).reportedTokensPerSecond
        round.forEach((v, i) => { tps[i]!.push(v); vsBest[i]!.push(v / round[0]!) })
      }
      variants.forEach((variant, i) => {
        const role = i === 0 ? 'best on this CPU' : variant === fallback ? "auto's fallback" : 'portable'
        rows.push([`llama-moe bench ${quant.toUpperCase()}`, `${variant} (${role})`, spread(tps[i]!, 1), i === 0 ? '1' : `${spread(vsBest[i]!, 3)}`])
      })
    } finally {
      for (const s of servers) await s.stop()
    }
  }
  rows.push(['setup', `${cpu.modelName}, 1 thread, ${maxTokens} tokens x ${rounds} rounds`, 'node-host timings, not streamed', 'median of per-round ratios to best'])
  return { rows }
}
