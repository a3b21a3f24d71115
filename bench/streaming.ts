/**
 * Streaming throughput: many concurrent streams, tokens as fast as the fake sends them, through the
 * gateway (metering tap, SSE parsing, usage rows) vs the raw node:http + undici pass-through.
 * Same fake upstream, rounds interleaved (A B, B A, ...); tokens/s counted at the client.
 *
 * A stream that fails is counted, not fatal: under bursts of back-to-back fast streams both
 * the raw baseline and the gateway sometimes get ECONNRESET / "other side closed" on a reused
 * upstream socket (undici does not retry a POST), answered 502. Root cause not found yet.
 */
import { withPassThroughPair, type Target } from './pass-through-pair.js'
import { spread } from './support.js'

/** True if the stream finished with [DONE]. */
async function oneStream(t: Target, contentTokens: number): Promise<boolean> {
  const res = await t.pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json', ...t.headers },
    body: JSON.stringify({ model: 'deepseek-flash', stream: true, messages: [{ role: 'user', content: 'Stream, please.' }], thinking: { type: 'disabled' }, fake_behavior: { contentTokens } }),
  })
  const text = await res.body.text()
  return res.statusCode === 200 && text.includes('data: [DONE]')
}

/** Content tokens per second of the streams that finished, across `streams` concurrent streams, and how many failed. */
async function tokensPerSecond(t: Target, streams: number, contentTokens: number): Promise<{ tps: number; failed: number }> {
  const started = performance.now()
  const finished = await Promise.all(Array.from({ length: streams }, () => oneStream(t, contentTokens).catch(() => false)))
  const ok = finished.filter(Boolean).length
  return { tps: (ok * contentTokens) / ((performance.now() - started) / 1000), failed: streams - ok }
}

export interface StreamingResult {
  rows: Array<[string, string, string, string]>
}

export async function benchStreaming(opts: { rounds?: number; streams?: number; contentTokens?: number } = {}): Promise<StreamingResult> {
  const rounds = opts.rounds ?? 7
  const streams = opts.streams ?? 64
  const contentTokens = opts.contentTokens ?? 200
  return withPassThroughPair(streams, async (targets) => {
    for (const t of targets) await tokensPerSecond(t, streams, 50) // warm-up: JIT, connections, key cache
    const tps = { raw: [] as number[], gateway: [] as number[] }
    const ratio: number[] = []
    const failed = { raw: 0, gateway: 0 }
    for (let r = 0; r < rounds; r++) {
      const round: Partial<Record<Target['name'], number>> = {}
      for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
        const run = await tokensPerSecond(t, streams, contentTokens)
        round[t.name] = run.tps
        failed[t.name] += run.failed
      }
      tps.raw.push(round.raw!)
      tps.gateway.push(round.gateway!)
      ratio.push(round.gateway! / round.raw!)
    }
    const total = rounds * streams
    return { rows: [[`${streams} concurrent streams x ${contentTokens} tokens (tokens/s at the client)`, spread(tps.raw, 0), spread(tps.gateway, 0), `ratio ${spread(ratio, 3)}; failed streams: raw ${failed.raw}/${total}, gateway ${failed.gateway}/${total}`]] }
  })
}
