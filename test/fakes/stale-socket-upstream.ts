/**
 * A raw `net` upstream that closes keep-alive connections exactly when a client reuses them: the
 * race a real server's idle timer loses now and then, made deterministic. It answers a request
 * with a small chat-completion SSE stream, `Connection: keep-alive` and no `Keep-Alive: timeout=`
 * hint (as DeepSeek-style streams and many servers send), then does what `policy` says with the
 * next request on that connection, as soon as its first byte arrives (the server's timer firing
 * with the request unread).
 *
 * const up = await startStaleSocketUpstream({ policy: ({ onConnection }) => (onConnection === 0 ? 'answer' : 'reset') })
 *
 * GET /health answers node-host's health body on a connection of its own (`Connection: close`),
 * so the gateway's probes never meet a dropped socket.
 */
import { createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * answer: the SSE stream. reset: RST (the client reads ECONNRESET). close: FIN (undici: "other side
 * closed"). partial: the first bytes of a status line, then RST (a response had begun).
 */
export type StaleSocketAction = 'answer' | 'reset' | 'close' | 'partial'

export interface StaleSocketUpstream {
  url: string
  /** Connections accepted, health probes excluded. */
  readonly connections: number
  /** Requests answered in full. */
  readonly answered: number
  /** Requests dropped, by action. */
  readonly dropped: Record<Exclude<StaleSocketAction, 'answer'>, number>
  close(): Promise<void>
}

const MODEL = 'deepseek-flash'
const PIECES = ['Fresh', ' socket', ' answer', '.']

function sseBody(): string {
  const base = { id: 'chatcmpl-stale', object: 'chat.completion.chunk', created: 1, model: MODEL }
  const events = [
    ...PIECES.map((content) => ({ ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    { ...base, choices: [], usage: { prompt_tokens: 7, completion_tokens: PIECES.length, total_tokens: 7 + PIECES.length } },
  ]
  return `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`
}

const HEALTH_BODY = JSON.stringify({ status: 'ok', slots: { total: 64, busy: 0 }, queue: { depth: 0, max: 64 }, tokens_per_second: { prefill: null, decode: 12.5 } })

/** Index just past one whole request (head and Content-Length body) at the start of `buffer`, or -1. */
function requestEnd(buffer: Buffer): number {
  const headEnd = buffer.indexOf('\r\n\r\n')
  if (headEnd < 0) return -1
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(buffer.subarray(0, headEnd).toString('latin1'))
  const end = headEnd + 4 + Number(length?.[1] ?? 0)
  return buffer.length >= end ? end : -1
}

export async function startStaleSocketUpstream(opts: { policy: (at: { connection: number; onConnection: number }) => StaleSocketAction }): Promise<StaleSocketUpstream> {
  const body = sseBody()
  const stream = `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\nconnection: keep-alive\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  const health = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(HEALTH_BODY)}\r\n\r\n${HEALTH_BODY}`
  const sockets = new Set<Socket>()
  const state = { connections: 0, answered: 0, dropped: { reset: 0, close: 0, partial: 0 } }

  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let connection: number | undefined
    let onConnection = 0
    let buffer = Buffer.alloc(0)
    let dropping = false
    socket.on('data', (chunk: Buffer) => {
      if (dropping) return
      buffer = Buffer.concat([buffer, chunk])
      if (buffer.subarray(0, 12).toString('latin1') === 'GET /health ') {
        if (requestEnd(buffer) >= 0) socket.end(health)
        return
      }
      connection ??= state.connections++
      const action = opts.policy({ connection, onConnection })
      if (action === 'answer') {
        const end = requestEnd(buffer)
        if (end < 0) return // the rest of this request is still on its way
        buffer = buffer.subarray(end)
        onConnection++
        state.answered++
        socket.write(stream)
        return
      }
      dropping = true
      state.dropped[action]++
      if (action === 'close') socket.destroy()
      else if (action === 'reset') socket.resetAndDestroy()
      // Given time to be read: a reset can discard bytes still queued at the receiver.
      else socket.write('HTTP/1.1 2', () => setTimeout(() => socket.resetAndDestroy(), 50))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return state.connections
    },
    get answered() {
      return state.answered
    },
    dropped: state.dropped,
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
