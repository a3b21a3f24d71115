// Starts the node-host benchmarks' server processes (each in its own process, like production).
import { BENCH_SECRET } from './node-host-client.js'
import type { BatchingPolicy } from '../node-host/engine/decode-mode.js'
import { spawnServer, type ServerProcess } from './support.js'

/** Tokens per sequence: the prompt plus a few hundred generated tokens fit with room to spare. */
export const BENCH_CONTEXT_TOKENS = 1024

export interface SpawnedServer extends ServerProcess {
  url: string
}

export async function spawnNodeHost(model: string, opts: { threads: number; parallel: number; cpuVariant?: string; batching?: BatchingPolicy }): Promise<SpawnedServer> {
  const server = await spawnServer('bench/servers/node-host.ts', [model, String(opts.threads), String(opts.parallel), String(BENCH_CONTEXT_TOKENS), BENCH_SECRET, opts.cpuVariant ?? 'auto', opts.batching ?? 'auto'])
  return { ...server, url: server.words[0]! }
}

export async function spawnDirectLlama(model: string, opts: { threads: number }): Promise<SpawnedServer> {
  const server = await spawnServer('bench/servers/direct-llama.ts', [model, String(opts.threads), String(BENCH_CONTEXT_TOKENS)])
  return { ...server, url: server.words[0]! }
}
