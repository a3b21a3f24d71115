/**
 * Continuous batching: aggregate decode tok/s of 1, 2 and 4 concurrent streams on one node-host with
 * --parallel 4 (one context, the sequences' tokens decoded in shared batches), 1 thread, each stream kept
 * long by the grammar. Aggregate = every token after the first over the time from the first token of any
 * stream to the last of any (prompts are cached after warm-up, so this is decode). A stream that only
 * starts once others finish lowers it, and shows as a large first-token stagger.
 */
import { ensureTestModel } from '../node-host/gguf/test-models.js'
import { signingKey, streamNodeHost, tokensPerSecondBetween } from './node-host-client.js'
import { spawnNodeHost, type SpawnedServer } from './node-host-spawn.js'
import { spread } from './support.js'

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

export async function benchNodeHostBatching(opts: { rounds?: number; maxTokens?: number } = {}): Promise<{ rows: string[][] }> {
  const rounds = opts.rounds ?? 5
  const maxTokens = opts.maxTokens ?? 128
  const model = await ensureTestModel({ layout: 'llama-moe', size: 'bench', quant: 'q8_0' })
  let server: SpawnedServer | undefined
  try {
    server = await spawnNodeHost(model, { threads: 1, parallel: 4 })
    const url = server.url
    const key = await signingKey()
    const stagger: Record<number, number[]> = { 1: [], 2: [], 4: [] }
    const concurrent = async (n: number, round: number) => {
      const streams = await Promise.all(Array.from({ length: n }, (_, i) => streamNodeHost(url, key, { maxTokens, seed: round * 10 + i })))
      const times = streams.map((s) => s.tokenTimesMs)
      stagger[n]!.push(firstTokenStaggerMs(times))
      return aggregateTokensPerSecond(times)
    }
    await concurrent(4, 1000) // warm-up: every sequence caches the prompt prefix
    stagger[4]!.length = 0

    const aggregate: Record<number, number[]> = { 1: [], 2: [], 4: [] }
    const speedup: Record<number, number[]> = { 1: [], 2: [], 4: [] }
    for (let r = 0; r < rounds; r++) {
      const inRound: Record<number, number> = {}
      for (const n of r % 2 === 0 ? CONCURRENCIES : [...CONCURRENCIES].reverse()) inRound[n] = await concurrent(n, r)
      for (const n of CONCURRENCIES) {
        aggregate[n]!.push(inRound[n]!)
        speedup[n]!.push(inRound[n]! / inRound[1]!)
      }
    }
    return {
      rows: CONCURRENCIES.map((n) => [
        String(n),
        spread(aggregate[n]!, 1),
        spread(aggregate[n]!.map((v) => v / n), 1),
        `${spread(speedup[n]!, 2)}x${n === 4 ? ' (target >= 2.3)' : ''}`,
        n === 1 ? '-' : spread(stagger[n]!, 0),
      ]),
    }
  } finally {
    await server?.stop()
  }
}
