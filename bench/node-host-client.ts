/**
 * The client side of the node-host speed benchmarks: streaming requests to node-host (signed) and to
 * llama-server (not), requests to the direct-llama baseline, and one decode-rate definition for all of
 * them (first to last generated token).
 * undici.request rather than fetch: on 2 cores the client's own per-chunk CPU competes with the decode.
 */
import { request } from 'undici'
import { importSigningKey, signRequest } from '../src/signing.js'
import type { DirectGenerateRequest, DirectGenerateResponse } from './servers/direct-llama.js'

export const BENCH_SECRET = 'moe-gateway-bench-secret-0123456789'
export const SYSTEM_PROMPT = 'You are terse.'
export const USER_PROMPT = 'Explain mixture-of-experts decoding in one paragraph.'
/** Never completes, so random weights cannot end a reply early: every run decodes exactly max_tokens. */
export const LONG_GRAMMAR = 'root ::= [a-z] root'

export const signingKey = (): Promise<CryptoKey> => importSigningKey(BENCH_SECRET)

export interface DecodeSample {
  tokens: number
  /** Tokens after the first over the time since the first: prefill and request overhead excluded. */
  tokensPerSecond: number
  /** In-process, llama-server's definition (tokens / first token to end): node-host's `timings.predicted_per_second`, or the same computed by direct-llama. */
  reportedTokensPerSecond: number
  /** Arrival time of each token (node-host streamed: each content delta), ms since an arbitrary origin. */
  tokenTimesMs: number[]
}

/** n tokens span n-1 intervals. */
export function tokensPerSecondBetween(tokenTimesMs: readonly number[]): number {
  const spanMs = (tokenTimesMs.at(-1) ?? 0) - (tokenTimesMs[0] ?? 0)
  return tokenTimesMs.length > 1 && spanMs > 0 ? ((tokenTimesMs.length - 1) * 1000) / spanMs : NaN
}

interface StreamChunk {
  choices?: Array<{ delta?: { content?: string; reasoning_content?: string } }>
  usage?: { completion_tokens: number }
  timings?: { predicted_per_second: number }
}

interface CompletionBody {
  usage: { completion_tokens: number }
  timings: { predicted_per_second: number }
}

/** node-host's default sampling, spelled out so that llama-server, whose defaults differ, samples alike. */
const SAMPLING = { temperature: 1, top_k: 40, top_p: 1, min_p: 0 }

/** Signed with `key` for node-host; llama-server takes it unsigned. */
async function postChat(url: string, key: CryptoKey | undefined, fields: Record<string, unknown>) {
  const body = JSON.stringify({ messages: [{ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: USER_PROMPT }], grammar: LONG_GRAMMAR, ...SAMPLING, ...fields })
  const signed = key ? await signRequest(key, { method: 'POST', pathAndQuery: '/v1/chat/completions', body }) : {}
  const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...signed }, body })
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}: ${await res.body.text()}`)
  return res
}

/**
 * One streamed chat completion, each content delta timed as it arrives. The grammar's tokens are whole
 * ASCII letters, so the server sends one delta per token (checked against usage.completion_tokens).
 */
export async function streamChat(url: string, key: CryptoKey | undefined, opts: { maxTokens: number; seed: number }): Promise<DecodeSample> {
  const res = await postChat(url, key, { max_tokens: opts.maxTokens, seed: opts.seed, stream: true, stream_options: { include_usage: true } })
  const times: number[] = []
  let completionTokens = NaN
  let reported = NaN
  let buffered = ''
  res.body.setEncoding('utf8')
  for await (const text of res.body as AsyncIterable<string>) {
    const now = performance.now()
    buffered += text
    let end: number
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue
      const chunk = JSON.parse(event.slice(6)) as StreamChunk
      const delta = chunk.choices?.[0]?.delta
      if (delta?.content || delta?.reasoning_content) times.push(now)
      if (chunk.usage) completionTokens = chunk.usage.completion_tokens
      if (chunk.timings) reported = chunk.timings.predicted_per_second
    }
  }
  if (times.length !== completionTokens) throw new Error(`expected one delta per token: ${times.length} deltas, ${completionTokens} tokens`)
  return { tokens: times.length, tokensPerSecond: tokensPerSecondBetween(times), reportedTokensPerSecond: reported, tokenTimesMs: times }
}

/** The same request, not streamed: only node-host's in-process timings (no per-token I/O at all). */
export async function completeNodeHost(url: string, key: CryptoKey, opts: { maxTokens: number; seed: number }): Promise<DecodeSample> {
  const res = await postChat(url, key, { max_tokens: opts.maxTokens, seed: opts.seed })
  const body = (await res.body.json()) as CompletionBody
  return { tokens: body.usage.completion_tokens, tokensPerSecond: NaN, reportedTokensPerSecond: body.timings.predicted_per_second, tokenTimesMs: [] }
}

/** The same generation on the direct-llama baseline, timed inside that process. */
export async function generateDirect(url: string, opts: { maxTokens: number; seed: number }): Promise<DecodeSample> {
  const req: DirectGenerateRequest = { system: SYSTEM_PROMPT, user: USER_PROMPT, maxTokens: opts.maxTokens, seed: opts.seed, grammar: LONG_GRAMMAR }
  const res = await request(`${url}/generate`, { method: 'POST', body: JSON.stringify(req) })
  if (res.statusCode !== 200) throw new Error(`direct-llama answered ${res.statusCode}: ${await res.body.text()}`)
  const { tokenTimesMs, endMs } = (await res.body.json()) as DirectGenerateResponse
  return { tokens: tokenTimesMs.length, tokensPerSecond: tokensPerSecondBetween(tokenTimesMs), reportedTokensPerSecond: (tokenTimesMs.length * 1000) / endMs, tokenTimesMs }
}
