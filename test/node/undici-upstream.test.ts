import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { undiciUpstream } from '../../src/node/undici-upstream.js'

type Route = (req: IncomingMessage, res: ServerResponse) => void

// One loopback server; each test mounts its own route under its own path.
const routes = new Map<string, Route>()
let server: Server
let base: string
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume()
    const route = routes.get(req.url ?? '')
    if (route) route(req, res)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const upstream = undiciUpstream()
const post = (path: string, signal = new AbortController().signal) => upstream(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal })

/** Resolves when the server sees the request's connection close. */
function closedOn(path: string, route: Route): Promise<void> {
  return new Promise((resolve) => {
    routes.set(path, (req, res) => {
      res.on('close', () => resolve())
      route(req, res)
    })
  })
}

describe('undiciUpstream', () => {
  it('sends the method, headers and body, and gives status and headers back', async () => {
    routes.set('/echo', (req, res) => {
      let got = ''
      req.on('data', (d: Buffer) => (got += d.toString()))
      req.on('end', () => res.writeHead(201, { 'x-seen': `${req.method} ${req.headers['content-type']} ${got}`, 'set-cookie': ['a=1', 'b=2'] }).end('ok'))
    })
    const res = await post('/echo')
    expect(res.status).toBe(201)
    expect(res.ok).toBe(true)
    expect(res.headers.get('X-Seen')).toBe('POST application/json {}')
    expect(res.headers.get('set-cookie')).toBe('a=1, b=2')
    expect(res.headers.get('absent')).toBeNull()
    expect(await res.text()).toBe('ok')
  })

  it('decodes text whose UTF-8 characters arrive split across writes', async () => {
    const text = 'Größe: 10 µm — 東京 🚀'.repeat(50)
    const bytes = Buffer.from(text)
    routes.set('/split', (_req, res) => {
      res.writeHead(200)
      let at = 0
      const step = () => {
        if (at >= bytes.length) return res.end()
        res.write(bytes.subarray(at, at + 7))
        at += 7
        setImmediate(step)
      }
      step()
    })
    const res = await post('/split')
    expect(await res.text()).toBe(text)
  })

  it('streams a large body byte for byte, reading from the socket no faster than the reader takes', async () => {
    const total = 64 * 1024 * 1024
    const chunk = Buffer.alloc(64 * 1024)
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251
    let socket: Socket | undefined
    routes.set('/large', (_req, res) => {
      socket = res.socket!
      res.writeHead(200, { 'content-length': String(total) })
      let sent = 0
      const write = () => {
        while (sent < total) {
          sent += chunk.length
          if (!res.write(chunk)) return res.once('drain', write)
        }
        res.end()
      }
      write()
    })
    const res = await post('/large')
    const reader = res.body!.getReader()
    const first = await reader.read()
    // The reader stalls: the gateway must stop reading, so the server can push no more than socket buffers hold.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(socket!.bytesWritten).toBeLessThan(total / 2)
    let received = first.value!.byteLength
    let sum = first.value!.reduce((a, b) => a + b, 0)
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      received += value.byteLength
      for (let i = 0; i < value.byteLength; i += 4096) sum += value[i]!
    }
    expect(received).toBe(total)
    expect(sum).toBeGreaterThan(0)
  })

  it('hands a reader that was busy everything that queued meanwhile as one chunk', async () => {
    let allSent!: () => void
    const sent = new Promise<void>((resolve) => (allSent = resolve))
    routes.set('/pieces', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const pieces = ['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n']
      const next = () => {
        const piece = pieces.shift()
        if (piece === undefined) return setTimeout(allSent, 50)
        res.write(piece, () => setTimeout(next, 20))
      }
      next()
    })
    const res = await post('/pieces')
    await sent
    const reader = res.body!.getReader()
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\n')
    await reader.cancel()
  })

  it('rejects with the signal reason and closes the connection when aborted before the headers', async () => {
    const closed = closedOn('/hold', () => {})
    const abort = new AbortController()
    const pending = post('/hold', abort.signal)
    setTimeout(() => abort.abort(new DOMException('client closed request', 'AbortError')), 50)
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', message: 'client closed request' })
    await closed
  })

  it('rejects at once for a signal already aborted', async () => {
    const abort = new AbortController()
    abort.abort(new DOMException('gone', 'AbortError'))
    await expect(post('/echo', abort.signal)).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('errors the stream and closes the connection when aborted mid-stream, after what had arrived', async () => {
    const closed = closedOn('/drip', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: 1\n\n')
    })
    const abort = new AbortController()
    const res = await post('/drip', abort.signal)
    const reader = res.body!.getReader()
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('data: 1\n\n')
    abort.abort(new DOMException('upstream timed out', 'TimeoutError'))
    await expect(reader.read()).rejects.toMatchObject({ name: 'TimeoutError' })
    await closed
  })

  it('closes the connection when the reader cancels the stream', async () => {
    const closed = closedOn('/cancel', (_req, res) => {
      res.writeHead(200)
      res.write('x')
    })
    const res = await post('/cancel')
    const reader = res.body!.getReader()
    await reader.read()
    await reader.cancel()
    await closed
  })

  it('delivers the bytes an upstream sent before it died, then an error, streamed or read whole', async () => {
    const dies: Route = (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' })
      res.write('partial', () => setTimeout(() => res.socket!.destroy(), 20))
    }
    routes.set('/dies', dies)
    const streamed = await post('/dies')
    const reader = streamed.body!.getReader()
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('partial')
    await expect(reader.read()).rejects.toThrow()
    const whole = await post('/dies')
    await expect(whole.text()).rejects.toThrow()
  })

  it('rejects when nothing listens', async () => {
    const closedPort = createServer()
    await new Promise<void>((resolve) => closedPort.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(closedPort.address() as AddressInfo).port}/x`
    await new Promise((resolve) => closedPort.close(resolve))
    await expect(upstream(url, { method: 'POST', headers: {}, body: '{}', signal: new AbortController().signal })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })
})
