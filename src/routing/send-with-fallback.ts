import type { Backend, UpstreamResponse } from '../backends/backend.js'
import type { ClientGone } from './client-gone.js'
import { readFirstEvent, type StreamReader } from './first-event.js'

/** What happened to one request across its backends. */
export type SendResult =
  | {
      kind: 'served'
      backend: Backend
      response: UpstreamResponse
      /** Streams: the reader, and the first bytes already read from it (held keep-alives, then the first event: the commit point). */
      reader?: StreamReader
      firstChunk?: Uint8Array
      /** Non-streams: the whole body. */
      bodyText?: string
      upstreamAbort: AbortController
      attempts: number
      fallbackReason?: string
    }
  | { kind: 'failed'; backend: Backend; status: number; code: string; bodyText?: string; retryAfter?: string | null; attempts: number; fallbackReason?: string }
  | { kind: 'client_gone'; backend?: Backend; attempts: number; fallbackReason?: string }

export interface SendOptions {
  order: Array<{ backend: Backend; body: Record<string, unknown> }>
  stream: boolean
  client: ClientGone
  /** Streams: until headers and first body bytes. Non-streams: until the whole body. */
  timeoutMs: number
}

// A failure with one of these, before the client saw a byte, moves on to the next backend.
// 402 is DeepSeek's "insufficient balance" (api-docs.deepseek.com, "Error Codes").
function retryableStatus(status: number): boolean {
  return status === 402 || status === 408 || status === 429 || status >= 500
}

/**
 * node-host's 400 for a parameter its engine or model cannot serve (e.g. `tools` on a model whose chat
 * template has no tool-call format): an OpenAI error with code `unsupported_parameter`. Hosted may serve
 * it, so it is worth the next backend; any other 400 is the client's mistake and goes back as is.
 * Either way it says nothing about the host: the pool records a 400 as neutral (health-outcomes.ts).
 * @example unsupportedParameterReason('{"error":{"code":"unsupported_parameter","param":"tools"}}') // 'unsupported_parameter:tools'
 */
export function unsupportedParameterReason(bodyText: string): string | undefined {
  let error: { code?: unknown; param?: unknown } | undefined
  try {
    error = (JSON.parse(bodyText) as { error?: { code?: unknown; param?: unknown } } | null)?.error
  } catch {
    return undefined
  }
  if (error?.code !== 'unsupported_parameter') return undefined
  // The reason goes into a response header and the usage row: keep it to a short, safe token.
  const param = typeof error.param === 'string' ? error.param.toLowerCase().replace(/[^a-z0-9_.]/g, '').slice(0, 40) : ''
  return param ? `unsupported_parameter:${param}` : 'unsupported_parameter'
}

type Attempt =
  | Extract<SendResult, { kind: 'served' }>
  /** reason: why moving on is worth it, for the fallback reason; `code` when absent. */
  | { kind: 'failed'; status: number; code: string; bodyText?: string; retryAfter?: string | null; retryable: boolean; reason?: string }
  | { kind: 'client_gone' }

async function attemptOnce(backend: Backend, body: Record<string, unknown>, opts: SendOptions): Promise<Attempt> {
  const abort = new AbortController()
  const onClientAbort = () => abort.abort(new DOMException('client closed request', 'AbortError'))
  if (opts.client.gone) return { kind: 'client_gone' }
  const unwatch = opts.client.watch(onClientAbort)
  let timedOut = false
  let gotHeaders = false
  const startedAtMs = Date.now()
  const timer = setTimeout(() => {
    timedOut = true
    abort.abort(new DOMException('upstream timed out', 'TimeoutError'))
  }, opts.timeoutMs)
  const gone = (): Attempt | undefined => (opts.client.gone ? { kind: 'client_gone' } : undefined)
  try {
    const response = await backend.send({ body, signal: abort.signal })
    if (!response.ok) {
      const bodyText = await response.text().catch(() => '')
      const unsupported = backend.name === 'local' && response.status === 400 ? unsupportedParameterReason(bodyText) : undefined
      return {
        kind: 'failed',
        status: response.status,
        code: `status_${response.status}`,
        bodyText,
        retryAfter: response.headers.get('retry-after'),
        retryable: retryableStatus(response.status) || unsupported !== undefined,
        ...(unsupported ? { reason: unsupported } : {}),
      }
    }
    if (!opts.stream) {
      const bodyText = await response.text()
      return { kind: 'served', backend, response, bodyText, upstreamAbort: abort, attempts: 0 }
    }
    if (!response.body) return { kind: 'failed', status: 502, code: 'empty_stream', retryable: true }
    gotHeaders = true
    // Keep-alive comments are not an answer: hold them (up to half the first-byte time) so a
    // backend that dies before its first event still falls back. They count as liveness.
    const first = await readFirstEvent(response.body.getReader(), { holdUntilMs: startedAtMs + opts.timeoutMs / 2, now: Date.now, onAlive: () => clearTimeout(timer) })
    if (!first) return { kind: 'failed', status: 502, code: 'empty_stream', retryable: true }
    return { kind: 'served', backend, response, reader: first.reader, firstChunk: first.firstChunk, upstreamAbort: abort, attempts: 0 }
  } catch {
    const clientGone = gone()
    if (clientGone) return clientGone
    if (timedOut) return { kind: 'failed', status: 504, code: 'timeout', retryable: true }
    return gotHeaders ? { kind: 'failed', status: 502, code: 'stream_broken', retryable: true } : { kind: 'failed', status: 502, code: 'connect_error', retryable: true }
  } finally {
    clearTimeout(timer)
    // Streams keep listening: a client that leaves mid-stream must abort the upstream.
    if (!opts.stream) unwatch()
  }
}

/**
 * Tries backends in order. A failure before the first byte reaches the client (connect
 * error, timeout, 402/408/429/5xx, node-host's unsupported_parameter 400) moves on to the
 * next; anything else is final, and so is the last backend's failure, as it answered.
 */
export async function sendWithFallback(opts: SendOptions): Promise<SendResult> {
  let fallbackReason: string | undefined
  let last: Extract<SendResult, { kind: 'failed' }> | undefined
  for (const [i, { backend, body }] of opts.order.entries()) {
    const attempts = i + 1
    const result = await attemptOnce(backend, body, opts)
    if (result.kind === 'served') return { ...result, attempts, ...(fallbackReason ? { fallbackReason } : {}) }
    if (result.kind === 'client_gone') return { kind: 'client_gone', backend, attempts, ...(fallbackReason ? { fallbackReason } : {}) }
    last = { kind: 'failed', backend, status: result.status, code: result.code, bodyText: result.bodyText, retryAfter: result.retryAfter, attempts, ...(fallbackReason ? { fallbackReason } : {}) }
    if (!result.retryable) return last
    fallbackReason = `${backend.name}:${result.reason ?? result.code}`
  }
  if (!last) throw new Error('sendWithFallback needs at least one backend')
  return last
}
