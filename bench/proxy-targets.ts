/**
 * The proxies every gateway benchmark compares, each in its own process in front of one fake upstream:
 * the raw node:http + undici pass-through (the least a proxy can do), the gateway, and Portkey's gateway
 * (bench/peers/portkey.ts). Before any timing, each relays one answer, plain and streamed, and must send
 * back the raw pass-through's bytes (per-request id and created time aside). Portkey is left out, with
 * the reason, when it cannot be installed or started or relays something else; the others run anyway.
 */
import { Pool, type Dispatcher } from 'undici'
import { BEHAVIOR_HEADER, DEFAULT_FAKE_API_KEY, type FakeBehavior } from '../test/fakes/deepseek.js'
import { pinSelf, proxyCpuLayout, setAffinity } from './cpu-pinning.js'
import { ensurePortkey } from './peers/portkey.js'
import { spawnServer, type ServerProcess } from './support.js'

export type TargetName = 'raw' | 'gateway' | 'portkey'

export interface Target {
  name: TargetName
  pool: Pool
  /** What this proxy needs to reach the fake: the gateway's key, Portkey's provider headers. */
  headers: Record<string, string>
  /** The proxy's process, for its CPU time. */
  pid: number
}

export interface ProxyTargets {
  /** raw, gateway and, when it runs, portkey. */
  targets: Target[]
  /** Why Portkey is not among the targets. */
  portkeyNotMeasured?: string
  /** Where the proxies and the load ran (bench/cpu-pinning.ts). */
  cpus: string
  /**
   * Lets every process use every CPU (`shared`), or puts each back where the layout pins it; absent
   * when nothing is pinned, so there is only the one arrangement.
   */
  arrange?: (mode: 'shared' | 'pinned') => void
}

/**
 * A chat completion request for `t`. The fake's behavior goes in the body (raw and gateway pass it on)
 * and in its header too: Portkey drops body fields it does not know and forwards only the headers
 * named in x-portkey-forward-headers.
 */
export function chatRequest(t: Target, body: Record<string, unknown>, behavior?: FakeBehavior): Dispatcher.RequestOptions {
  return {
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json', ...t.headers, ...(behavior ? { [BEHAVIOR_HEADER]: JSON.stringify(behavior) } : {}) },
    body: JSON.stringify(behavior ? { ...body, fake_behavior: behavior } : body),
  }
}

const CHECK_BODY = { model: 'deepseek-flash', messages: [{ role: 'user', content: 'Relay check.' }], thinking: { type: 'disabled' } }

/**
 * Status, content type and body of a plain and a streamed answer, with the fake's per-request id and time
 * blanked, and without `"usage":null`: the gateway asks the upstream for usage (stream_options.include_usage,
 * to meter), so its chunks carry that field; it drops the usage chunk the client did not ask for.
 */
async function relayedAnswers(t: Target): Promise<string[]> {
  const out: string[] = []
  for (const stream of [false, true]) {
    const res = await t.pool.request(chatRequest(t, { ...CHECK_BODY, stream }, { contentTokens: 3 }))
    const body = (await res.body.text()).replaceAll(/"id":"[^"]*"/g, '"id":""').replaceAll(/"created":\d+/g, '"created":0').replaceAll(',"usage":null', '')
    out.push(`${res.statusCode} ${String(res.headers['content-type'])}\n${body}`)
  }
  return out
}

async function checkRelaysLikeRaw(raw: Target, t: Target): Promise<void> {
  const [expected, got] = [await relayedAnswers(raw), await relayedAnswers(t)]
  for (const [i, kind] of ['plain', 'streamed'].entries()) {
    const [want, have] = [expected[i]!, got[i]!]
    if (have === want) continue
    let at = 0
    while (want[at] === have[at]) at++
    const around = (text: string) => JSON.stringify(text.slice(Math.max(0, at - 40), at + 60))
    throw new Error(`${t.name} relays a different ${kind} answer than the raw pass-through: ${around(have)} where raw sent ${around(want)}`)
  }
}

/** Portkey in front of `upstream`, checked against `raw`; stopped again if anything fails. */
async function startPortkey(upstream: string, raw: Target, connections: number, cpus: string | undefined): Promise<{ server: ServerProcess; target: Target }> {
  const { entry } = await ensurePortkey()
  const server = await spawnServer('bench/servers/portkey.ts', [entry], cpus)
  const target: Target = {
    name: 'portkey',
    pool: new Pool(server.words[0]!, { connections }),
    // Portkey passes the client's key on to the provider; the custom host is its documented way to reach any OpenAI-compatible server.
    headers: { authorization: `Bearer ${DEFAULT_FAKE_API_KEY}`, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream}/v1`, 'x-portkey-forward-headers': BEHAVIOR_HEADER },
    pid: server.pid,
  }
  try {
    await checkRelaysLikeRaw(raw, target)
    return { server, target }
  } catch (err) {
    await target.pool.close()
    await server.stop()
    throw err
  }
}

/** Starts the fake and the proxies, hands `run` a client pool for each, and stops everything after. */
export async function withProxyTargets<T>(connections: number, run: (proxies: ProxyTargets) => Promise<T>): Promise<T> {
  const servers: ServerProcess[] = []
  const targets: Target[] = []
  const layout = proxyCpuLayout()
  const unpin = pinSelf(layout.load)
  try {
    const fake = await spawnServer('bench/servers/fake-upstream.ts', [], layout.load)
    servers.push(fake)
    const upstream = fake.words[0]!
    const raw = await spawnServer('bench/servers/raw-proxy.ts', [upstream], layout.proxy)
    servers.push(raw)
    targets.push({ name: 'raw', pool: new Pool(raw.words[0]!, { connections }), headers: {}, pid: raw.pid })
    const gw = await spawnServer('bench/servers/gateway.ts', [upstream], layout.proxy)
    servers.push(gw)
    targets.push({ name: 'gateway', pool: new Pool(gw.words[0]!, { connections }), headers: { authorization: `Bearer ${gw.words[1]}` }, pid: gw.pid })
    await checkRelaysLikeRaw(targets[0]!, targets[1]!)
    let portkeyNotMeasured: string | undefined
    try {
      const portkey = await startPortkey(upstream, targets[0]!, connections, layout.proxy)
      servers.push(portkey.server)
      targets.push(portkey.target)
    } catch (err) {
      portkeyNotMeasured = err instanceof Error ? err.message.split('\n')[0]! : String(err)
    }
    const { proxy, load, all } = layout
    const arrange = proxy !== undefined && load !== undefined && all !== undefined
      ? (mode: 'shared' | 'pinned') => {
          for (const s of servers) setAffinity(s.pid, mode === 'shared' ? all : s === fake ? load : proxy)
          setAffinity(process.pid, mode === 'shared' ? all : load)
        }
      : undefined
    return await run({ targets, portkeyNotMeasured, cpus: layout.describe, ...(arrange ? { arrange } : {}) })
  } finally {
    for (const t of targets) await t.pool.close()
    for (const s of servers.reverse()) await s.stop()
    unpin()
  }
}
