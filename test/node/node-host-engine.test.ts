/**
 * node-host with the real in-process engine on the tiny generated GGUFs (seeded random weights, so the
 * text is noise, but tokens, counts, seeds, grammars and slots are real).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureTestModel, type TestModelLayout } from '../../node-host/gguf/test-models.js'
import { processLlama } from '../../node-host/engine/llama-binding.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import { waitFor } from '../support/net.js'
import { useVariantForModels } from '../support/shared-variant.js'
import { dataJson, postChat, readSse, TEST_SECRET, testKey } from './node-host-helpers.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read loose JSON

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say something.' },
]
/** Never complete, so never allows end-of-generation: runs until max_tokens or abort. */
const LONG_GRAMMAR = 'root ::= [a-z] root'

async function chat(host: NodeHost, key: CryptoKey, body: Json): Promise<Json> {
  const res = await postChat(host.url, key, { messages, ...body })
  const json = (await res.json()) as Json
  expect(res.status, JSON.stringify(json)).toBe(200)
  return json
}

async function streamText(host: NodeHost, key: CryptoKey, body: Json): Promise<{ content: string; reasoning: string; usage: Json | undefined; chunks: Json[] }> {
  const res = await postChat(host.url, key, { messages, ...body, stream: true, stream_options: { include_usage: true } })
  expect(res.status).toBe(200)
  const chunks = dataJson(await readSse(res))
  return {
    content: chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''),
    reasoning: chunks.map((c) => c.choices[0]?.delta?.reasoning_content ?? '').join(''),
    usage: chunks.at(-1)?.usage as Json | undefined,
    chunks,
  }
}

// Several models share this process's binding: one variant proven for all of them.
beforeAll(async () => {
  await useVariantForModels(await Promise.all([ensureTestModel({ layout: 'llama-moe' }), ensureTestModel({ layout: 'deepseek2' })]))
})

describe.each<TestModelLayout>(['llama-moe', 'deepseek2'])('real engine on the tiny %s model', (layout) => {
  let host: NodeHost
  let key: CryptoKey
  let modelPath: string

  beforeAll(async () => {
    key = await testKey()
    modelPath = await ensureTestModel({ layout })
    host = await startNodeHost({ model: modelPath, secret: TEST_SECRET, threads: 1, parallel: 2, contextSize: 1024, maxQueue: 1, keepAliveMs: 50 })
  })
  afterAll(() => host?.close())

  it('is deterministic for a fixed seed and varies with the seed', async () => {
    const a = await chat(host, key, { seed: 7, temperature: 1, max_tokens: 24 })
    const b = await chat(host, key, { seed: 7, temperature: 1, max_tokens: 24 })
    const c = await chat(host, key, { seed: 8, temperature: 1, max_tokens: 24 })
    expect(a.choices[0].message.content).toBe(b.choices[0].message.content)
    expect([a.usage.prompt_tokens, a.usage.completion_tokens]).toEqual([b.usage.prompt_tokens, b.usage.completion_tokens])
    expect(c.choices[0].message.content).not.toBe(a.choices[0].message.content)
  })

  it('gives identical output to the same seeded request on parallel sequences, streamed or not', async () => {
    const body = { seed: 11, temperature: 0.9, max_tokens: 24, messages: [{ role: 'user', content: `parallel ${layout}` }] }
    const [x, y] = await Promise.all([chat(host, key, body), chat(host, key, body)])
    expect(x.choices[0].message.content).toBe(y.choices[0].message.content)
    const streamed = await streamText(host, key, body)
    expect(streamed.content).toBe(x.choices[0].message.content)
    expect(streamed.usage?.completion_tokens).toBe(x.usage.completion_tokens)
  })

  it('counts prompt tokens exactly and completion tokens up to max_tokens', async () => {
    const res = await chat(host, key, { messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: `count ${layout}` }], max_tokens: 9, grammar: LONG_GRAMMAR })
    // Independent count: ChatML written out by hand, tokenized with the model's own tokenizer. The
    // model's template renders no BOS and its vocabulary says add_bos_token false, so none is added.
    const llama = await processLlama()
    const model = await llama.loadModel({ modelPath })
    const chatml = `<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\ncount ${layout}<|im_end|>\n<|im_start|>assistant\n`
    const expected = model.tokenize(chatml, true).length
    await model.dispose()
    expect(res.usage).toMatchObject({ prompt_tokens: expected, completion_tokens: 9, total_tokens: expected + 9 })
    expect(res.choices[0].finish_reason).toBe('length')
    expect(res.timings).toMatchObject({ predicted_n: 9, prompt_n: expected - res.usage.prompt_tokens_details.cached_tokens })
  })

  it('reuses a cached prefix on the next turn and reports it as cached_tokens', async () => {
    const first = [{ role: 'user', content: `A long-ish opening turn about prefix caching on ${layout}.` }]
    const r1 = await chat(host, key, { messages: first, seed: 3, max_tokens: 6, grammar: 'root ::= [a-z]{6}' })
    const r2 = await chat(host, key, {
      messages: [...first, { role: 'assistant', content: r1.choices[0].message.content }, { role: 'user', content: 'and then?' }],
      max_tokens: 4,
    })
    expect(r2.usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(r1.usage.prompt_tokens)
    expect(r2.usage.prompt_tokens_details.cached_tokens).toBeLessThan(r2.usage.prompt_tokens)
    expect(r2.timings.cache_n).toBe(r2.usage.prompt_tokens_details.cached_tokens)
    expect(r2.timings.prompt_n).toBe(r2.usage.prompt_tokens - r2.timings.cache_n)
  })

  it('enforces a JSON schema with a grammar', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' }, color: { enum: ['red', 'green', 'blue'] } }, required: ['ok', 'color'] }
    const res = await chat(host, key, { seed: 5, max_tokens: 200, response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } } })
    const parsed = JSON.parse(res.choices[0].message.content) as Json
    expect(typeof parsed.ok).toBe('boolean')
    expect(['red', 'green', 'blue']).toContain(parsed.color)
    expect(res.choices[0].finish_reason).toBe('stop')
  })

  it('splits <think> output into reasoning_content and counts reasoning tokens', async () => {
    const grammar = 'root ::= "<think>" [a-z]{3,6} "</think>" [a-z]{2,4}'
    const res = await chat(host, key, { seed: 2, max_tokens: 40, grammar })
    const message = res.choices[0].message
    expect(message.reasoning_content).toMatch(/^[a-z]{3,6}$/)
    expect(message.content).toMatch(/^[a-z]{2,4}$/)
    const reasoningTokens = res.usage.completion_tokens_details.reasoning_tokens
    expect(reasoningTokens).toBeGreaterThan(2)
    expect(reasoningTokens).toBeLessThan(res.usage.completion_tokens)
    const streamed = await streamText(host, key, { seed: 2, max_tokens: 40, grammar })
    expect({ reasoning: streamed.reasoning, content: streamed.content }).toEqual({ reasoning: message.reasoning_content, content: message.content })
    expect(streamed.usage?.completion_tokens_details.reasoning_tokens).toBe(reasoningTokens)
  })

  it('stops at a stop string without returning it', async () => {
    const res = await chat(host, key, { grammar: 'root ::= "abcXYZdef"', stop: ['XYZ'], max_tokens: 20 })
    expect(res.choices[0]).toMatchObject({ message: { content: 'abc' }, finish_reason: 'stop' })
  })
})

describe('real engine: slots, queue and keep-alive', () => {
  let host: NodeHost
  let key: CryptoKey

  beforeAll(async () => {
    key = await testKey()
    host = await startNodeHost({ model: await ensureTestModel({ layout: 'llama-moe' }), secret: TEST_SECRET, threads: 1, parallel: 1, contextSize: 4096, maxQueue: 1, keepAliveMs: 40 })
  })
  afterAll(() => host?.close())

  const busy = async () => ((await (await fetch(`${host.url}/health`)).json()) as { slots: { busy: number }; queue: { depth: number } })

  it('frees the sequence right after the client disconnects', async () => {
    const ac = new AbortController()
    const res = await postChat(host.url, key, { messages, stream: true, grammar: LONG_GRAMMAR, max_tokens: 3000 }, ac.signal)
    expect(res.status).toBe(200)
    // Read until real tokens flow, then hang up (readSse cancels the body: the connection closes).
    const seen = await readSse(res, (_item, all) => dataJson(all).length >= 3)
    expect(dataJson(seen).length).toBeGreaterThanOrEqual(3)
    expect(seen.at(-1)).not.toEqual({ data: '[DONE]' })
    ac.abort()
    const abortedAt = performance.now()
    await waitFor(async () => (await busy()).slots.busy === 0, 3000, 'slot freed')
    expect(performance.now() - abortedAt).toBeLessThan(1500)
    // The freed sequence serves the next request.
    const next = await chat(host, key, { max_tokens: 3 })
    expect(next.usage.completion_tokens).toBe(3)
  })

  it('keeps a queued stream alive with comments before its first token, and answers 429 when the line is full', async () => {
    const first = new AbortController()
    const long = await postChat(host.url, key, { messages, stream: true, grammar: LONG_GRAMMAR, max_tokens: 3000 }, first.signal)
    const longReading = readSse(long).catch(() => [])
    await waitFor(async () => (await busy()).slots.busy === 1, 3000, 'long request running')

    const queued = postChat(host.url, key, { messages, stream: true, max_tokens: 3 })
    await waitFor(async () => (await busy()).queue.depth === 1, 3000, 'second request queued')
    const refused = await postChat(host.url, key, { messages, max_tokens: 3 })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await refused.json()) as Json).error.code).toBe('queue_full')

    const res = await queued
    const kinds: string[] = []
    const reading = readSse(res, (item) => {
      kinds.push('comment' in item ? 'comment' : 'data')
      return false
    })
    await waitFor(() => kinds.includes('comment'), 3000, 'keep-alive while queued')
    first.abort()
    const items = await reading
    await longReading
    const firstData = kinds.indexOf('data')
    expect(firstData).toBeGreaterThan(0)
    expect(kinds.slice(0, firstData).every((k) => k === 'comment')).toBe(true)
    expect(items.at(-1)).toEqual({ data: '[DONE]' })
  })

  it('reports recent prefill and decode speeds in health and metrics', async () => {
    await chat(host, key, { max_tokens: 16, grammar: 'root ::= [a-z]{16}' })
    const health = (await (await fetch(`${host.url}/health`)).json()) as Json
    expect(health).toMatchObject({ status: 'ok', mode: 'llama', slots: { total: 1, busy: 0 }, threads: 1, context_size: expect.any(Number) })
    expect(health.tokens_per_second.decode).toBeGreaterThan(0)
    expect(health.tokens_per_second.prefill).toBeGreaterThan(0)
  })
})
