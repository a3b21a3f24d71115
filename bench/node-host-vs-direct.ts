/**
 * Decode speed of a real node-host process vs node-llama-cpp driven directly in its own process: same
 * model, threads, context size, prompt, sampling and grammar. Rounds interleaved (A B, B A, ...) on a
 * noisy box; medians with min-max. node-host is measured from the client (first to last streamed delta);
 * a non-streamed run separates the engine from the per-token streaming I/O.
 */
import { ensureTestModel } from '../node-host/gguf/test-models.js'
import { completeNodeHost, generateDirect, signingKey, streamChat } from './node-host-client.js'
import { spawnDirectLlama, spawnNodeHost, type SpawnedServer } from './node-host-spawn.js'
import { fmt, median, spread } from './support.js'

export interface VsDirectResult {
  rows: string[][]
}

export async function benchNodeHostVsDirect(opts: { rounds?: number; maxTokens?: number; threads?: number } = {}): Promise<VsDirectResult> {
  const rounds = opts.rounds ?? 7
  const maxTokens = opts.maxTokens ?? 128
  const threads = opts.threads ?? 1
  const model = await ensureTestModel({ layout: 'llama-moe', size: 'bench', quant: 'q8_0' })
  const servers: SpawnedServer[] = []
  try {
    const host = await spawnNodeHost(model, { threads, parallel: 1 })
    servers.push(host)
    const direct = await spawnDirectLlama(model, { threads })
    servers.push(direct)
    const key = await signingKey()
    // Warm-up: JIT, grammar compile, prompt prefix cache, page cache.
    for (let i = 0; i < 2; i++) {
      await streamChat(host.url, key, { maxTokens, seed: 1000 + i })
      await completeNodeHost(host.url, key, { maxTokens, seed: 1000 + i })
      await generateDirect(direct.url, { maxTokens, seed: 1000 + i })
    }

    const streamed: number[] = []
    const streamedReported: number[] = []
    const agreement: number[] = []
    const nonStreamed: number[] = []
    const directClient: number[] = []
    const directReported: number[] = []
    const streamedRatio: number[] = []
    const nonStreamedRatio: number[] = []
    for (let r = 0; r < rounds; r++) {
      const runs = [
        async () => {
          const s = await streamChat(host.url, key, { maxTokens, seed: r })
          streamed.push(s.tokensPerSecond)
          streamedReported.push(s.reportedTokensPerSecond)
          agreement.push(s.reportedTokensPerSecond / s.tokensPerSecond)
          nonStreamed.push((await completeNodeHost(host.url, key, { maxTokens, seed: r })).reportedTokensPerSecond)
        },
        async () => {
          const d = await generateDirect(direct.url, { maxTokens, seed: r })
          directClient.push(d.tokensPerSecond)
          directReported.push(d.reportedTokensPerSecond)
        },
      ]
      for (const run of r % 2 === 0 ? runs : runs.reverse()) await run()
      streamedRatio.push(streamed.at(-1)! / directClient.at(-1)!)
      nonStreamedRatio.push(nonStreamed.at(-1)! / directReported.at(-1)!)
    }
    return {
      rows: [
        ['decode tok/s, first to last token', spread(directClient, 1), `${spread(streamed, 1)} (streamed, client-side)`, `ratio ${spread(streamedRatio, 3)} (target >= 0.95)`],
        ['decode tok/s, in-process timings', spread(directReported, 1), `${spread(nonStreamed, 1)} (not streamed)`, `ratio ${spread(nonStreamedRatio, 3)}`],
        ['node-host timings.predicted_per_second vs client-measured', '-', spread(streamedReported, 1), `ratio ${spread(agreement, 3)} (n/(n-1) = ${fmt(maxTokens / (maxTokens - 1), 3)} expected)`],
        ['setup', `${threads} thread, ${maxTokens} tokens x ${rounds} rounds`, 'llama-moe bench Q8_0, parallel 1', `median ratio ${fmt(median(streamedRatio), 3)}`],
      ],
    }
  } finally {
    for (const s of servers.reverse()) await s.stop()
  }
}
