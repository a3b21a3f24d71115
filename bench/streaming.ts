/**
 * Streaming throughput: many concurrent streams, tokens as fast as the fake sends them, through the
 * gateway (metering tap, SSE parsing, usage rows), the raw node:http + undici pass-through and Portkey's
 * gateway. Same fake upstream, rounds interleaved (A B C, C B A, ...); tokens/s counted at the client,
 * and each proxy's CPU time over its run (its process, all threads) divided by the SSE events it relayed.
 * Work a proxy defers past its last stream (the gateway's batched usage writes) counts in its next run.
 *
 * A stream that fails is counted, not fatal. Bursts used to get ECONNRESET / "other side closed" on
 * reused upstream sockets: the clients kept idle sockets 30 s, past the upstream's 5 s (+1 s) close.
 * The gateway now drops them at 4 s and resends a request that dies on a reused socket before any
 * byte (src/node/undici-upstream.ts, test/node/upstream-keepalive.test.ts); the raw baseline has the 4 s
 * timeout only, so a failure it still shows is the race the gateway's retry covers.
 */
import { portkeyMissingRow, proxyRow, setupRow, type Round } from './proxy-table.js'
import { chatRequest, withProxyTargets, type Target, type TargetName } from './proxy-targets.js'
import { cpuTimeNs } from './support.js'

const BODY = { model: 'deepseek-flash', stream: true, messages: [{ role: 'user', content: 'Stream, please.' }], thinking: { type: 'disabled' } }

/** SSE events received ([DONE] included) if the stream finished with [DONE], else undefined. */
async function oneStream(t: Target, contentTokens: number): Promise<number | undefined> {
  const res = await t.pool.request(chatRequest(t, BODY, { contentTokens }))
  const text = await res.body.text()
  if (res.statusCode !== 200 || !text.includes('data: [DONE]')) return undefined
  return text.split('\n\n').filter((event) => event.startsWith('data: ')).length
}

interface StreamsRun {
  /** Content tokens per second of the streams that finished. */
  tps: number
  failed: number
  /** The proxy's CPU time over the run per SSE event the client received. */
  cpuPerEventUs: number
}

async function concurrentStreams(t: Target, streams: number, contentTokens: number): Promise<StreamsRun> {
  const cpuBeforeNs = cpuTimeNs(t.pid)
  const started = performance.now()
  const events = await Promise.all(Array.from({ length: streams }, () => oneStream(t, contentTokens).catch(() => undefined)))
  const seconds = (performance.now() - started) / 1000
  const cpuNs = cpuTimeNs(t.pid) - cpuBeforeNs
  const finished = events.filter((n) => n !== undefined)
  const relayed = finished.reduce((sum, n) => sum + n, 0)
  return { tps: (finished.length * contentTokens) / seconds, failed: streams - finished.length, cpuPerEventUs: cpuNs / 1000 / relayed }
}

export interface StreamingResult {
  rows: string[][]
}

export async function benchStreaming(opts: { rounds?: number; streams?: number; contentTokens?: number } = {}): Promise<StreamingResult> {
  const rounds = opts.rounds ?? 7
  const streams = opts.streams ?? 64
  const contentTokens = opts.contentTokens ?? 200
  return withProxyTargets(streams, async ({ targets, portkeyNotMeasured, cpus }) => {
    for (const t of targets) await concurrentStreams(t, streams, 50) // warm-up: JIT, connections, key cache
    const tps: Round[] = []
    const cpu: Round[] = []
    const failed: Partial<Record<TargetName, number>> = {}
    for (let r = 0; r < rounds; r++) {
      const tpsRound: Round = {}
      const cpuRound: Round = {}
      for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
        const run = await concurrentStreams(t, streams, contentTokens)
        tpsRound[t.name] = run.tps
        cpuRound[t.name] = run.cpuPerEventUs
        failed[t.name] = (failed[t.name] ?? 0) + run.failed
      }
      tps.push(tpsRound)
      cpu.push(cpuRound)
    }
    const total = rounds * streams
    const failedCell = (name: TargetName) => (failed[name] === undefined ? 'not measured' : `${failed[name]}/${total}`)
    return {
      rows: [
        proxyRow(`${streams} concurrent streams x ${contentTokens} tokens (tokens/s at the client)`, tps, { compare: 'ratio', digits: 0 }),
        proxyRow('proxy CPU per SSE event relayed (µs, its process, all threads)', cpu, { compare: 'ratio', digits: 1, targets: { gateway: '<= 75' } }),
        ['failed streams', failedCell('raw'), failedCell('gateway'), failedCell('portkey'), '-', '-', '-'],
        ...(portkeyNotMeasured ? [portkeyMissingRow(portkeyNotMeasured)] : []),
        setupRow(cpus),
      ],
    }
  })
}
