/**
 * A small signed-request-checking stand-in for node-host, for gateway tests that need to
 * make the local backend fail on cue. The real node-host is tested in node-host-*.test.ts.
 * Behavior per request: body field `fake_local` = { status?, error?, retryAfter?, closeAfterChunks?, hang?, delayMs? },
 * or for every request: `fake.behavior`. GET /health (unsigned, like node-host's) answers `fake.health`.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { importSigningKey, NonceCache, verifyRequest } from '../../src/signing.js'

export interface FakeLocalBehavior {
  status?: number
  /** The OpenAI error object a failure status answers with, e.g. node-host's { code: 'unsupported_parameter', param: 'tools' }. */
  error?: Record<string, unknown>
  /** Retry-After on a failure status (429 has '2' unless given). */
  retryAfter?: string
  closeAfterChunks?: number
  hang?: boolean
  delayMs?: number
}

export interface FakeNodeHost {
  url: string
  requests: Array<{ path: string; body: Record<string, unknown>; verified: string | undefined; aborted: boolean; atMs: number }>
  /** Applies to every chat request that brings no `fake_local` of its own. */
  behavior: FakeLocalBehavior
  /** What GET /health answers: the HTTP status and node-host's body. */
  health: { status: number; body: Record<string, unknown> }
  healthProbes: number
  close(): Promise<void>
}

const PIECES = ['Local', ' answer', ' from', ' the', ' box', '.']

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => resolve(Buffer.concat(parts)))
    req.on('error', reject)
  })
}

export async function startFakeNodeHost(opts: { secret: string; model?: string }): Promise<FakeNodeHost> {
  const key = await importSigningKey(opts.secret)
  const nonces = new NonceCache()
  const model = opts.model ?? 'local-moe'
  const requests: FakeNodeHost['requests'] = []
  const fake = {
    behavior: {} as FakeLocalBehavior,
    health: { status: 200, body: { status: 'ok', slots: { total: 1, busy: 0 }, queue: { depth: 0, max: 4 }, tokens_per_second: { prefill: null, decode: 12.5 } } as Record<string, unknown> },
    healthProbes: 0,
  }
  const server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      fake.healthProbes++
      res.writeHead(fake.health.status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(fake.health.body))
      return
    }
    const raw = await readBody(req)
    const headers = new Headers(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : [])))
    const failure = await verifyRequest(key, nonces, { method: req.method ?? 'GET', pathAndQuery: req.url ?? '/', body: raw, headers })
    const body = (raw.length ? JSON.parse(raw.toString('utf8')) : {}) as Record<string, unknown>
    const record = { path: req.url ?? '/', body, verified: failure, aborted: false, atMs: Date.now() }
    requests.push(record)
    res.on('close', () => { if (!res.writableFinished) record.aborted = true })
    if (failure) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: `signature ${failure}`, type: 'authentication_error', code: 'invalid_signature' } }))
      return
    }
    const behavior = (body.fake_local ?? fake.behavior) as FakeLocalBehavior
    if (behavior.delayMs) await new Promise((r) => setTimeout(r, behavior.delayMs))
    if (behavior.status) {
      res.writeHead(behavior.status, { 'content-type': 'application/json', ...(behavior.retryAfter ? { 'retry-after': behavior.retryAfter } : behavior.status === 429 ? { 'retry-after': '2' } : {}) })
      res.end(JSON.stringify({ error: behavior.error ?? { message: 'fake local failure', type: 'server_error', code: `fake_${behavior.status}` } }))
      return
    }
    const promptTokens = JSON.stringify(body.messages ?? []).length
    const usage = { prompt_tokens: promptTokens, completion_tokens: PIECES.length, total_tokens: promptTokens + PIECES.length, prompt_tokens_details: { cached_tokens: 3 } }
    const base = { id: 'chatcmpl-local', created: 1, model }
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: PIECES.join('') }, finish_reason: 'stop' }], usage }))
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    if (behavior.hang) return // headers only; the gateway's first-byte timeout must fire
    const events = [
      ...PIECES.map((p) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: p }, finish_reason: null }] })),
      { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      ...((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage ? [{ ...base, object: 'chat.completion.chunk', choices: [], usage }] : []),
    ]
    for (const [i, event] of events.entries()) {
      if (behavior.closeAfterChunks !== undefined && i >= behavior.closeAfterChunks) {
        res.destroy()
        return
      }
      res.write(`data: ${JSON.stringify(event)}\n\n`)
      await new Promise((r) => setTimeout(r, 2))
    }
    res.end('data: [DONE]\n\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  })
}
