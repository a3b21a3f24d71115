/**
 * Gateway overhead beside a raw node:http + undici pass-through and Portkey's gateway, all three in
 * front of the same fake upstream, driven by the same client, rounds interleaved (A B C, C B A, ...)
 * on a noisy machine. Each proxy runs alone on one CPU, the client and the fake on the others
 * (bench/cpu-pinning.ts); c32 throughput is measured that way and again with every process on every
 * CPU. Reports medians over rounds with min-max.
 */
import type { Dispatcher } from 'undici'
import type { FakeBehavior } from '../test/fakes/deepseek.js'
import { addedP99Row, portkeyMissingRow, proxyRow, setupRow, type Round } from './proxy-table.js'
import { chatRequest, withProxyTargets, type Target, type TargetName } from './proxy-targets.js'
import { cpuTimeNs, median } from './support.js'

const BODY = { model: 'deepseek-flash', messages: [{ role: 'user', content: 'What is a mixture of experts?' }], thinking: { type: 'disabled' } }
/** Paced: the first event goes out alone and the next 5 ms later, so a proxy that holds bytes back shows it. */
const PACED: FakeBehavior = { tokenDelayMs: 5, contentTokens: 1 }

async function once(t: Target, req: Dispatcher.RequestOptions, firstByteOnly = false): Promise<number> {
  const started = performance.now()
  const res = await t.pool.request(req)
  let firstByteMs = NaN
  for await (const chunk of res.body) {
    if (Number.isNaN(firstByteMs) && (chunk as Buffer).length > 0) firstByteMs = performance.now() - started
  }
  if (res.statusCode !== 200) throw new Error(`${t.name}: status ${res.statusCode}`)
  return firstByteOnly ? firstByteMs : performance.now() - started
}

async function sequential(t: Target, n: number, req: Dispatcher.RequestOptions, firstByteOnly = false): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(await once(t, req, firstByteOnly))
  return out
}

/** Requests/s at `concurrency`, and the proxy's own CPU per request (its process, all threads). */
async function throughput(t: Target, req: Dispatcher.RequestOptions, concurrency: number, durationMs: number): Promise<{ rps: number; cpuUs: number }> {
  const cpuBeforeNs = cpuTimeNs(t.pid)
  const deadline = performance.now() + durationMs
  let done = 0
  const worker = async () => {
    while (performance.now() < deadline) {
      await once(t, req)
      done++
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { rps: done / ((performance.now() - started) / 1000), cpuUs: (cpuTimeNs(t.pid) - cpuBeforeNs) / 1000 / done }
}

export interface OverheadResult {
  rows: string[][]
}

export async function benchGatewayOverhead(opts: { rounds?: number; latencyN?: number; ttfbN?: number; throughputMs?: number } = {}): Promise<OverheadResult> {
  const rounds = opts.rounds ?? 7
  return withProxyTargets(64, async ({ targets, portkeyNotMeasured, cpus, arrange }) => {
    const plain = new Map<TargetName, Dispatcher.RequestOptions>(targets.map((t) => [t.name, chatRequest(t, BODY)]))
    const paced = new Map<TargetName, Dispatcher.RequestOptions>(targets.map((t) => [t.name, chatRequest(t, { ...BODY, stream: true }, PACED)]))
    for (const t of targets) await sequential(t, 300, plain.get(t.name)!) // warm-up: JIT, connections, key cache

    const p50: Round[] = []
    const ttfb: Round[] = []
    const rps: Round[] = []
    const cpu: Round[] = []
    const sharedRps: Round[] = []
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse()
      const lat: Round = {}
      const first: Round = {}
      const tput: Round = {}
      const cpuRound: Round = {}
      const shared: Round = {}
      for (const t of order) lat[t.name] = median(await sequential(t, opts.latencyN ?? 200, plain.get(t.name)!))
      for (const t of order) first[t.name] = median(await sequential(t, opts.ttfbN ?? 100, paced.get(t.name)!, true))
      for (const t of order) ({ rps: tput[t.name], cpuUs: cpuRound[t.name] } = await throughput(t, plain.get(t.name)!, 32, opts.throughputMs ?? 2000))
      if (arrange) {
        arrange('shared')
        for (const t of order) shared[t.name] = (await throughput(t, plain.get(t.name)!, 32, opts.throughputMs ?? 2000)).rps
        arrange('pinned')
        sharedRps.push(shared)
      }
      p50.push(lat)
      ttfb.push(first)
      rps.push(tput)
      cpu.push(cpuRound)
    }
    return {
      rows: [
        proxyRow('p50 latency, concurrency 1 (ms)', p50, { compare: 'added', digits: 3, unit: 'ms', targets: { gatewayVsRaw: '<= 0.45' } }),
        proxyRow(`throughput, concurrency 32 (req/s)${arrange ? ', proxy alone on its CPU' : ''}`, rps, { compare: 'ratio', digits: 0, targets: { gatewayVsRaw: '>= 0.6', gatewayVsPortkey: '>= 4' } }),
        // The same with every process on every CPU, as the benchmark ran before it pinned: the load's cost dilutes the proxies' differences.
        ...(arrange ? [proxyRow('throughput, concurrency 32 (req/s), proxy, client and fake sharing all CPUs', sharedRps, { compare: 'ratio', digits: 0, targets: { gatewayVsRaw: '>= 0.6', gatewayVsPortkey: '>= 4' } })] : []),
        // The proxy's cost alone: at c32 the raw pass-through can be bound by the load's CPU rather than its own.
        proxyRow('proxy CPU per request at concurrency 32 (µs, its process, all threads)', cpu, { compare: 'ratio', digits: 0 }),
        proxyRow('first byte of a paced stream, concurrency 1 (ms)', ttfb, { compare: 'added', digits: 3, unit: 'ms', targets: { gatewayVsRaw: '<= 1.5' } }),
        addedP99Row('p99 of added p50 across rounds (ms)', p50, 3),
        ...(portkeyNotMeasured ? [portkeyMissingRow(portkeyNotMeasured)] : []),
        setupRow(cpus),
      ],
    }
  })
}
