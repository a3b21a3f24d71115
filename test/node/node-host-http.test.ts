/**
 * The HTTP layer over a scripted fake engine: signing, validation, queueing, keep-alive, abort,
 * health and metrics, and the official OpenAI SDK as a client.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import { signRequest } from '../../src/signing.js'
import { waitFor } from '../support/net.js'
import { createFakeEngine, dataJson, postChat, readSse, signingFetch, TEST_SECRET, testKey, type FakeEngineControls } from './node-host-helpers.js'

const user = (content: string) => ({ messages: [{ role: 'user', content }] })

describe('node-host HTTP layer', () => {
  let host: NodeHost
  let fake: FakeEngineControls
  let key: CryptoKey

  beforeAll(async () => {
    key = await testKey()
    fake = createFakeEngine({ tokenDelayMs: 5 })
    host = await startNodeHost({ engine: fake.engine, secret: TEST_SECRET, parallel: 1, maxQueue: 1, keepAliveMs: 60 })
  })
  afterAll(() => host?.close())

  describe('signatures', () => {
    const body = JSON.stringify(user('hi'))
    const send = (headers: Record<string, string>, payload = body) =>
      fetch(`${host.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload })
    const expect401 = async (res: Response, code: string) => {
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({ error: { type: 'authentication_error', code } })
    }

    it('rejects a missing signature', async () => {
      await expect401(await send({}), 'signature_missing')
    })

    it('rejects a bad signature and a signature over another body', async () => {
      const headers = await signRequest(key, { method: 'POST', pathAndQuery: '/v1/chat/completions', body })
      await expect401(await send({ ...headers, 'x-moe-signature': 'v1=' + 'ab'.repeat(32) }), 'signature_bad_signature')
      await expect401(await send(headers, JSON.stringify(user('tampered'))), 'signature_bad_signature')
    })

    it('rejects a stale timestamp', async () => {
      const headers = await signRequest(key, { method: 'POST', pathAndQuery: '/v1/chat/completions', body, nowSeconds: Math.floor(Date.now() / 1000) - 120 })
      await expect401(await send(headers), 'signature_stale')
    })

    it('accepts a signed request once and rejects its replay', async () => {
      const headers = await signRequest(key, { method: 'POST', pathAndQuery: '/v1/chat/completions', body })
      expect((await send(headers)).status).toBe(200)
      await expect401(await send(headers), 'signature_replayed')
    })

    it('guards /v1/models and /metrics too, but not /health', async () => {
      expect((await fetch(`${host.url}/v1/models`)).status).toBe(401)
      expect((await fetch(`${host.url}/metrics`)).status).toBe(401)
      expect((await fetch(`${host.url}/health`)).status).toBe(200)
      const models = await signingFetch(key)(`${host.url}/v1/models`)
      expect(await models.json()).toMatchObject({ object: 'list', data: [{ id: 'fake-model', object: 'model' }] })
    })
  })

  describe('validation', () => {
    it('answers malformed bodies with OpenAI 400 errors, never 500', async () => {
      const cases: unknown[] = [{}, { messages: 'hi' }, { messages: [] }, { messages: [{ role: 'user', content: 1 }] }, { ...user('x'), max_tokens: -1 }, { ...user('x'), stream: 'yes' }]
      for (const body of cases) {
        const res = await postChat(host.url, key, body)
        expect(res.status, JSON.stringify(body)).toBe(400)
        expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } })
      }
      const raw = await signingFetch(key)(`${host.url}/v1/chat/completions`, { method: 'POST', body: '{"messages": [' })
      expect(raw.status).toBe(400)
    })

    it("passes the engine's own 4xx through before streaming starts", async () => {
      const res = await postChat(host.url, key, { ...user('fail'), stream: true })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ error: { code: 'context_length_exceeded' } })
    })

    it('answers unknown routes with an OpenAI 404', async () => {
      const res = await signingFetch(key)(`${host.url}/v1/nope`)
      expect(res.status).toBe(404)
      expect(await res.json()).toMatchObject({ error: { type: 'not_found_error' } })
    })
  })

  describe('responses', () => {
    it('returns content, reasoning_content and usage with reasoning tokens', async () => {
      const res = await postChat(host.url, key, user('hi'))
      const body = (await res.json()) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- loose JSON
      expect(body).toMatchObject({
        object: 'chat.completion',
        model: 'fake-model',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello', reasoning_content: 'hm' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 3 } },
        timings: { prompt_n: 7, predicted_n: 5 },
      })
    })

    it('streams chunks, a final usage chunk with choices [] and timings, then [DONE]', async () => {
      const res = await postChat(host.url, key, { ...user('hi'), stream: true, stream_options: { include_usage: true } })
      expect(res.headers.get('content-type')).toContain('text/event-stream')
      const items = await readSse(res)
      expect(items.at(-1)).toEqual({ data: '[DONE]' })
      const chunks = dataJson(items)
      expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', choices: [{ delta: { role: 'assistant' } }], usage: null })
      const reasoning = chunks.map((c) => c.choices[0]?.delta?.reasoning_content ?? '').join('')
      const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
      expect({ reasoning, content }).toEqual({ reasoning: 'hm', content: 'Hello' })
      expect(chunks.at(-2)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' })
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 12, completion_tokens_details: { reasoning_tokens: 3 } }, timings: { predicted_n: 5 } })
    })

    it('works with the official OpenAI SDK signing through a custom fetch', async () => {
      const client = new OpenAI({ apiKey: 'unused', baseURL: `${host.url}/v1`, fetch: signingFetch(key), maxRetries: 0 })
      const done = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })
      expect(done.choices[0]?.finish_reason).toBe('length')
      expect(done.usage?.completion_tokens).toBe(4)
      const stream = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } })
      let content = ''
      let usage: OpenAI.CompletionUsage | undefined | null
      for await (const c of stream) {
        content += c.choices[0]?.delta?.content ?? ''
        usage = c.usage ?? usage
      }
      expect(content).toBe('Hello')
      expect(usage?.total_tokens).toBe(12)
      const models = await client.models.list()
      expect(models.data.map((m) => m.id)).toEqual(['fake-model'])
    })
  })

  describe('queue, keep-alive and abort', () => {
    it('sends keep-alive comments while queued behind a slow request, and 429 + Retry-After when the line is full', async () => {
      const first = new AbortController()
      const slow = await postChat(host.url, key, { ...user('slow:1500'), stream: true }, first.signal)
      await waitFor(() => fake.running() === 1, 5000, 'first request running')
      const second = postChat(host.url, key, { ...user('hi'), stream: true })
      await waitFor(async () => ((await (await fetch(`${host.url}/health`)).json()) as { queue: { depth: number } }).queue.depth === 1, 5000, 'second queued')

      const full = await postChat(host.url, key, user('hi'))
      expect(full.status).toBe(429)
      expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(await full.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'queue_full' } })

      // The queued stream commits after one interval and keeps alive until the slot frees.
      const queued = await second
      expect(queued.status).toBe(200)
      const seen: string[] = []
      const reading = readSse(queued, (item) => {
        seen.push('comment' in item ? 'comment' : 'data')
        return false
      })
      await waitFor(() => seen.filter((s) => s === 'comment').length >= 2, 5000, 'two keep-alives')
      expect(seen.every((s) => s === 'comment')).toBe(true)
      first.abort()
      await slow.body?.cancel().catch(() => {})
      const items = await reading
      expect(items.at(-1)).toEqual({ data: '[DONE]' })
      expect(dataJson(items).map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello')
    })

    it('frees the slot as soon as the client disconnects mid-stream', async () => {
      const ac = new AbortController()
      const res = await postChat(host.url, key, { ...user('slow:0'), stream: true, max_tokens: 5 }, ac.signal)
      await waitFor(() => fake.running() === 1, 5000, 'running')
      ac.abort()
      await res.body?.cancel().catch(() => {})
      await waitFor(async () => ((await (await fetch(`${host.url}/health`)).json()) as { slots: { busy: number } }).slots.busy === 0, 2000, 'slot freed')
      expect(fake.running()).toBe(0)
    })

    it('frees the slot when a non-streaming client disconnects', async () => {
      const ac = new AbortController()
      const pending = postChat(host.url, key, user('slow:5000'), ac.signal).catch((err: unknown) => err)
      await waitFor(() => fake.running() === 1, 5000, 'running')
      ac.abort()
      await pending
      await waitFor(() => host.queue.slotsBusy === 0 && fake.running() === 0, 2000, 'slot freed')
    })
  })

  describe('health and metrics', () => {
    it('health shows slots, queue, speeds and uptime without secrets or prompts', async () => {
      const res = await fetch(`${host.url}/health`)
      const text = await res.text()
      expect(res.status).toBe(200)
      expect(JSON.parse(text)).toMatchObject({ status: 'ok', model: 'fake-model', slots: { total: 1, busy: 0 }, queue: { depth: 0, max: 1 }, tokens_per_second: { decode: expect.any(Number), prefill: expect.any(Number) } })
      expect(text).not.toContain(TEST_SECRET)
      expect(text).not.toContain('slow:')
    })

    it('health is 503 with progress while the model loads, and chat is refused meanwhile', async () => {
      fake.setState('loading', 0.42)
      try {
        const res = await fetch(`${host.url}/health`)
        expect(res.status).toBe(503)
        expect(await res.json()).toMatchObject({ status: 'loading', progress: 0.42 })
        expect((await postChat(host.url, key, user('hi'))).status).toBe(503)
      } finally {
        fake.setState('ready', 1)
      }
    })

    it('metrics expose requests by status, tokens, queue, slots, speeds and a duration histogram', async () => {
      const res = await signingFetch(key)(`${host.url}/metrics`)
      expect(res.headers.get('content-type')).toContain('text/plain')
      const text = await res.text()
      expect(text).toMatch(/^node_host_requests_total\{status="200"\} [1-9]/m)
      expect(text).toMatch(/^node_host_requests_total\{status="429"\} 1$/m)
      expect(text).toMatch(/^node_host_requests_total\{status="401"\}|^node_host_requests_total\{status="400"\}/m)
      expect(text).toMatch(/^node_host_completion_tokens_total [1-9]/m)
      expect(text).toMatch(/^node_host_prompt_tokens_total [1-9]/m)
      expect(text).toMatch(/^node_host_queue_depth 0$/m)
      expect(text).toMatch(/^node_host_slots_busy 0$/m)
      expect(text).toMatch(/^node_host_decode_tokens_per_second \d/m)
      expect(text).toMatch(/^node_host_request_duration_seconds_bucket\{le="\+Inf"\} [1-9]/m)
      expect(text).not.toContain('slow:')
    })

    it('--metrics-open serves metrics without a signature', async () => {
      const open = await startNodeHost({ engine: createFakeEngine().engine, secret: TEST_SECRET, metricsOpen: true })
      try {
        expect((await fetch(`${open.url}/metrics`)).status).toBe(200)
        expect((await fetch(`${open.url}/v1/models`)).status).toBe(401)
      } finally {
        await open.close()
      }
    })
  })

  it('refuses to start without a secret unless insecure mode is asked for', async () => {
    const saved = process.env.NODE_HOST_SECRET
    delete process.env.NODE_HOST_SECRET
    try {
      await expect(startNodeHost({ engine: createFakeEngine().engine })).rejects.toThrow(/secret/)
      const insecure = await startNodeHost({ engine: createFakeEngine().engine, insecureNoAuth: true })
      try {
        expect((await fetch(`${insecure.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(user('hi')) })).status).toBe(200)
      } finally {
        await insecure.close()
      }
    } finally {
      if (saved !== undefined) process.env.NODE_HOST_SECRET = saved
    }
  })
})
