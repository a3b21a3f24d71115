/**
 * The pair every gateway benchmark compares: the raw node:http + undici pass-through and the
 * gateway, each in its own process, in front of one fake upstream.
 */
import { Pool } from 'undici'
import { spawnServer, type ServerProcess } from './support.js'

export interface Target {
  name: 'raw' | 'gateway'
  pool: Pool
  headers: Record<string, string>
}

/** Starts the three servers, hands `run` a client pool for each side, and stops everything after. */
export async function withPassThroughPair<T>(connections: number, run: (targets: [Target, Target]) => Promise<T>): Promise<T> {
  const servers: ServerProcess[] = []
  const targets: Target[] = []
  try {
    const fake = await spawnServer('bench/servers/fake-upstream.ts')
    servers.push(fake)
    const raw = await spawnServer('bench/servers/raw-proxy.ts', [fake.words[0]!])
    servers.push(raw)
    const gw = await spawnServer('bench/servers/gateway.ts', [fake.words[0]!])
    servers.push(gw)
    targets.push(
      { name: 'raw', pool: new Pool(raw.words[0]!, { connections }), headers: {} },
      { name: 'gateway', pool: new Pool(gw.words[0]!, { connections }), headers: { authorization: `Bearer ${gw.words[1]}` } },
    )
    return await run(targets as [Target, Target])
  } finally {
    for (const t of targets) await t.pool.close()
    for (const s of servers.reverse()) await s.stop()
  }
}
