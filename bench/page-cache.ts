/**
 * How the page cache holds a model changes its decode speed: the same file read by decode from pages
 * cached the way llama.cpp's mapping brings a cold file in (large folios on Linux 6.x ext4/xfs), and from
 * pages cached 4 KiB at a time in a shuffled order (standing in for pages evicted under memory pressure
 * and faulted back while a model runs). A fresh node-host per state and round, states alternating.
 * The bytes are identical; only how the kernel holds them differs. The rest of the node-host benchmarks
 * start from `evictFromPageCache`, so their figures do not depend on what touched the files before.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, fstatSync, fsyncSync, openSync, readSync } from 'node:fs'
import { ensureTestModel } from '../node-host/gguf/test-models.js'
import type { WeightQuant } from '../node-host/gguf/tensor-specs.js'
import { signingKey, streamChat } from './node-host-client.js'
import { spawnNodeHost } from './node-host-spawn.js'
import { median, spread } from './support.js'

/** Drops the file's clean, unmapped pages (coreutils dd: posix_fadvise DONTNEED); no root, no global drop. */
export function evictFromPageCache(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd) // pages still dirty from the write would stay
  } finally {
    closeSync(fd)
  }
  execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none'])
}

/** Caches the whole file one 4 KiB page at a time, in a seeded shuffled order. */
function faultInPageByPage(path: string, seed: number): void {
  const fd = openSync(path, 'r')
  try {
    const pages = Math.ceil(fstatSync(fd).size / 4096)
    const order = Uint32Array.from({ length: pages }, (_, i) => i)
    let state = seed >>> 0 || 1
    for (let i = pages - 1; i > 0; i--) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0
      const j = state % (i + 1)
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    const page = Buffer.alloc(4096)
    for (const index of order) readSync(fd, page, 0, 4096, index * 4096)
  } finally {
    closeSync(fd)
  }
}

export const PAGE_CACHE_HEADER = ['model', 'cold start: decode tok/s', 'faulted page by page: decode tok/s', 'cold start vs page by page']

export async function benchPageCache(opts: { quants?: WeightQuant[]; rounds?: number; maxTokens?: number; streams?: number } = {}): Promise<{ rows: string[][] }> {
  const rounds = opts.rounds ?? 6
  const maxTokens = opts.maxTokens ?? 128
  const streams = opts.streams ?? 3
  const quants = opts.quants ?? ['q8_0', 'f16']
  const models = await Promise.all(quants.map((quant) => ensureTestModel({ layout: 'llama-moe', size: 'bench', quant })))
  const key = await signingKey()
  const rows: string[][] = []
  try {
    for (const [m, model] of models.entries()) {
      const tokS = { cold: [] as number[], paged: [] as number[] }
      for (let r = 0; r < rounds; r++) {
        for (const state of r % 2 === 0 ? (['cold', 'paged'] as const) : (['paged', 'cold'] as const)) {
          evictFromPageCache(model)
          if (state === 'paged') faultInPageByPage(model, r + 1)
          const server = await spawnNodeHost(model, { threads: 1, parallel: 1 })
          try {
            await streamChat(server.url, key, { maxTokens: 16, seed: 999 }) // JIT, prompt cache
            const perStream: number[] = []
            for (let s = 0; s < streams; s++) perStream.push((await streamChat(server.url, key, { maxTokens, seed: r * streams + s })).tokensPerSecond)
            tokS[state].push(median(perStream))
          } finally {
            await server.stop()
          }
        }
      }
      const ratios = tokS.cold.map((v, i) => v / tokS.paged[i]!)
      rows.push([`llama-moe bench ${quants[m]!.toUpperCase()}`, spread(tokS.cold, 1), spread(tokS.paged, 1), `${spread(ratios, 2)}x`])
    }
  } finally {
    // The benchmarks after this one find the models as a first start after boot does.
    for (const model of models) evictFromPageCache(model)
  }
  rows.push(['setup', `1 thread, ${streams} x ${maxTokens} tokens per state and round, ${rounds} rounds`, 'fresh node-host per state and round', '-'])
  return { rows }
}
