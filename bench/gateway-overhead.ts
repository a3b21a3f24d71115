/**
 * Gateway overhead vs a raw node:http + undici pass-through, both in front of the same fake
 * upstream, measured in the same run with rounds interleaved (A B A B ...) on a noisy machine.
 * Reports medians over rounds with min-max.
 */
import { withPassThroughPair, type Target } from './pass-through-pair.js'
import { median, percentile, spread } from './support.js'

const BODY = JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'What is a mixture of experts?' }], thinking: { type: 'disabled' } })
const STREAM_BODY = JSON.stringify({ ...JSON.parse(BODY), stream: true })

async function once(t: Target, body: string, firstByteOnly = false): Promise<number> {
  const started = performance.now()
  const res = await t.pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body })
  let firstByteMs = NaN
  for await (const chunk of res.body) {
    if (Number.isNaN(firstByteMs) && (chunk as Buffer).length > 0) firstByteMs = performance.now() - started
  }
  if (res.statusCode !== 200) throw new Error(`${t.name}: status ${res.statusCode}`)
  return firstByteOnly ? firstByteMs : performance.now() - started
}

async function sequential(t: Target, n: number, body: string, firstByteOnly = false): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(await once(t, body, firstByteOnly))
  return out
}

async function throughput(t: Target, concurrency: number, durationMs: number): Promise<number> {
  const deadline = performance.now() + durationMs
  let done = 0
  const worker = async () => {
    while (performance.now() < deadline) {
      await once(t, BODY)
      done++
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return done / ((performance.now() - started) / 1000)
}

export interface OverheadResult {
  rows: Array<[string, string, string, string]>
}

export async function benchGatewayOverhead(opts: { rounds?: number; latencyN?: number; ttfbN?: number; throughputMs?: number } = {}): Promise<OverheadResult> {
  const rounds = opts.rounds ?? 7
  return withPassThroughPair(64, async (targets) => {
    for (const t of targets) await sequential(t, 300, BODY) // warm-up: JIT, connections, key cache

    const addedP50: number[] = []
    const p50s: Record<string, number[]> = { raw: [], gateway: [] }
    const ttfbAdded: number[] = []
    const rps: Record<string, number[]> = { raw: [], gateway: [] }
    const rpsRatio: number[] = []
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse()
      const lat: Record<string, number> = {}
      const ttfb: Record<string, number> = {}
      const tput: Record<string, number> = {}
      for (const t of order) lat[t.name] = median(await sequential(t, opts.latencyN ?? 200, BODY))
      for (const t of order) ttfb[t.name] = median(await sequential(t, opts.ttfbN ?? 100, STREAM_BODY, true))
      for (const t of order) tput[t.name] = await throughput(t, 32, opts.throughputMs ?? 2000)
      addedP50.push(lat.gateway! - lat.raw!)
      p50s.raw!.push(lat.raw!)
      p50s.gateway!.push(lat.gateway!)
      ttfbAdded.push(ttfb.gateway! - ttfb.raw!)
      rps.raw!.push(tput.raw!)
      rps.gateway!.push(tput.gateway!)
      rpsRatio.push(tput.gateway! / tput.raw!)
    }
    return {
      rows: [
        ['p50 latency, concurrency 1 (ms)', spread(p50s.raw!, 3), spread(p50s.gateway!, 3), `added ${spread(addedP50, 3)} ms (target <= 0.45)`],
        ['throughput, concurrency 32 (req/s)', spread(rps.raw!, 0), spread(rps.gateway!, 0), `ratio ${spread(rpsRatio, 3)} (target >= 0.6)`],
        ['stream first byte, added (ms)', '-', '-', `${spread(ttfbAdded, 3)} ms (target <= 1.5)`],
        ['p99 of added p50 across rounds (ms)', '-', '-', percentile(addedP50, 99).toFixed(3)],
      ],
    }
  })
}
