/**
 * Forward mode against a small llama-server-like upstream started here: passthrough byte for byte,
 * streaming chunk by chunk, upstream statuses, disconnects, health probing and metrics.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import { waitFor } from '../support/net.js'
import { dataJson, postChat, readSse, signingFetch, TEST_SECRET, testKey } from './node-host-helpers.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read loose JSON

interface Upstream {
  url: string
  received: Array<{ body: string; headers: IncomingMessage['headers'] }>
  healthStatus: number
  /** Resolves the held-back second half of the next stream. */
  releaseStream: () => void
  disconnects: number
  close(): Promise<void>
}

const USAGE = { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13, prompt_tokens_details: { cached_tokens: 4 } }
const chunkLine = (content: string) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`

async function startUpstream(): Promise<Upstream> {
  let release: () => void = () => {}
  const state: Omit<Upstream, 'url' | 'close'> = { received: [], healthStatus: 200, releaseStream: () => release(), disconnects: 0 }
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/health') return void res.writeHead(state.healthStatus, { 'content-type': 'application/json' }).end(JSON.stringify({ status: state.healthStatus === 200 ? 'ok' : 'loading' }))
    if (req.url === '/v1/models') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'upstream-model' }] }))
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => {
      state.received.push({ body, headers: req.headers })
      const parsed = JSON.parse(body) as Json
      const prompt = String(parsed.messages?.[0]?.content)
      res.on('close', () => {
        if (!res.writableFinished) state.disconnects++
      })
      if (prompt === 'busy') return void res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'busy', type: 'rate_limit_error', code: 'busy' } }))
      if (!parsed.stream) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'chat.completion', model: parsed.model, choices: [{ index: 0, message: { role: 'assistant', content: 'hi there' }, finish_reason: 'stop' }], usage: USAGE }))
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(chunkLine('first'))
      if (prompt === 'hang') return // until the client goes away
      new Promise<void>((resolve) => (release = resolve)).then(() => {
        res.write(chunkLine(' second'))
        res.write(`data: ${JSON.stringify({ choices: [], usage: USAGE })}\n\n`)
        res.end('data: [DONE]\n\n')
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return Object.assign(state, {
    url,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  })
}

describe('forward mode', () => {
  let upstream: Upstream
  let host: NodeHost
  let key: CryptoKey

  beforeAll(async () => {
    key = await testKey()
    upstream = await startUpstream()
    host = await startNodeHost({ upstream: upstream.url, secret: TEST_SECRET, parallel: 2, maxQueue: 2, keepAliveMs: 50 })
  })
  afterAll(async () => {
    await host?.close()
    await upstream?.close()
  })

  it('takes the model name from the upstream and reports healthy', async () => {
    const health = await fetch(`${host.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok', mode: 'forward', model: 'upstream-model' })
  })

  it('forwards the exact signed body, without signature headers, and passes the answer through', async () => {
    const body = { model: 'upstream-model', messages: [{ role: 'user', content: 'héllo' }], temperature: 0.3, custom_field: [1, 2] }
    const res = await postChat(host.url, key, body)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ choices: [{ message: { content: 'hi there' } }], usage: USAGE })
    const received = upstream.received.at(-1)!
    expect(received.body).toBe(JSON.stringify(body))
    expect(received.headers['x-moe-signature']).toBeUndefined()
  })

  it('streams chunk by chunk without waiting for the upstream to finish', async () => {
    const res = await postChat(host.url, key, { messages: [{ role: 'user', content: 'stream' }], stream: true })
    expect(res.status).toBe(200)
    let released = false
    const items = await readSse(res, (item) => {
      // The first chunk arrives while the upstream still holds the rest.
      if ('data' in item && item.data.includes('first') && !released) {
        released = true
        upstream.releaseStream()
      }
    })
    expect(released).toBe(true)
    expect(dataJson(items).map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('first second')
    expect(items.at(-1)).toEqual({ data: '[DONE]' })
  })

  it("passes an upstream error status through (non-streaming and streaming) so the gateway can fall back", async () => {
    const plain = await postChat(host.url, key, { messages: [{ role: 'user', content: 'busy' }] })
    expect(plain.status).toBe(429)
    expect(await plain.json()).toMatchObject({ error: { code: 'busy' } })
    const streamed = await postChat(host.url, key, { messages: [{ role: 'user', content: 'busy' }], stream: true })
    expect(streamed.status).toBe(429)
  })

  it('keeps a slow stream alive between events and closes the upstream request when the client leaves', async () => {
    const ac = new AbortController()
    const before = upstream.disconnects
    const res = await postChat(host.url, key, { messages: [{ role: 'user', content: 'hang' }], stream: true }, ac.signal)
    const kinds: string[] = []
    await readSse(res, (item) => {
      kinds.push('comment' in item ? 'comment' : 'data')
      return kinds.filter((k) => k === 'comment').length >= 2
    })
    expect(kinds[0]).toBe('data')
    ac.abort()
    await waitFor(() => upstream.disconnects > before, 3000, 'upstream saw the disconnect')
    await waitFor(() => host.queue.slotsBusy === 0, 3000, 'slot freed')
  })

  it('counts forwarded usage in metrics', async () => {
    const text = await (await signingFetch(key)(`${host.url}/metrics`)).text()
    expect(text).toMatch(/^node_host_prompt_tokens_total ([2-9]\d|\d{3,})$/m) // at least two requests with usage
    expect(text).toMatch(/^node_host_cached_prompt_tokens_total [1-9]/m)
    expect(text).toMatch(/^node_host_requests_total\{status="429"\} 2$/m)
  })

  it('reports 503 when the upstream is unhealthy', async () => {
    upstream.healthStatus = 503
    try {
      await waitFor(async () => (await fetch(`${host.url}/health`)).status === 503, 5000, 'health follows upstream')
      const body = (await (await fetch(`${host.url}/health`)).json()) as Json
      expect(body.status).toBe('upstream_unavailable')
    } finally {
      upstream.healthStatus = 200
    }
  })

  it('rewrites the model for upstreams that check it, and answers 502 when the upstream is down', async () => {
    const rewriting = await startNodeHost({ upstream: `${upstream.url}/v1`, upstreamModel: 'served-name', modelName: 'public-name', secret: TEST_SECRET })
    try {
      const res = await postChat(rewriting.url, key, { model: 'public-name', messages: [{ role: 'user', content: 'x' }] })
      expect(res.status).toBe(200)
      expect(JSON.parse(upstream.received.at(-1)!.body)).toMatchObject({ model: 'served-name' })
      expect(rewriting.engine.info().modelName).toBe('public-name')
    } finally {
      await rewriting.close()
    }
    const down = await startNodeHost({ upstream: 'http://127.0.0.1:1', modelName: 'm', secret: TEST_SECRET })
    try {
      const res = await postChat(down.url, key, { messages: [{ role: 'user', content: 'x' }] })
      expect(res.status).toBe(502)
      expect(await res.json()).toMatchObject({ error: { code: 'upstream_unreachable' } })
      expect((await fetch(`${down.url}/health`)).status).toBe(503)
    } finally {
      await down.close()
    }
  })
})
