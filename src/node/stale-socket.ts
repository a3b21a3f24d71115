/**
 * Node only (used by undici-upstream.ts): recognises the one failure that is safe to retry
 * even for a POST, a request that died on a *reused* keep-alive socket before any byte of its
 * response arrived. That is the server closing the idle connection while the request was on
 * its way: the request was never processed (the server read at most a connection it was
 * dropping), so sending it again on a fresh connection is what browsers do, and what undici's
 * RetryAgent does for idempotent methods.
 *
 * undici does not say on its errors which socket carried the request, so this follows its
 * documented diagnostics channels: `undici:client:sendHeaders` ({ request, socket }) as each
 * request goes out, `undici:request:error` ({ request, error }) before the caller sees the error.
 * Both must hold: the socket had carried a request before, and the failure came with no byte
 * read since the write and within a round trip of it (STALE_WITHIN_MS).
 * @example const stale = watchStaleSockets(); ... catch (err) { if (stale.isStaleSocketError(err)) retry() }
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'

/**
 * How a dropped idle connection shows: a reset (RST, the server closed with our request unread),
 * EPIPE (we wrote after it), or undici's SocketError "other side closed" (FIN before a response).
 */
const DROPPED_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'])

/**
 * A server closing an idle connection as our request goes out answers it (FIN, then RST) within one
 * round trip of the write. A failure later than this means the server held the request (it may have
 * been processing it, then crashed): not a stale socket, and not retried.
 */
const STALE_WITHIN_MS = 1_000

interface SentRequest {
  socket: Socket
  reused: boolean
  bytesReadAtSend: number
  sentAtMs: number
}

export interface StaleSocketWatch {
  /** True for an error undici reported for a request on a reused socket, before any response byte. */
  isStaleSocketError(err: unknown): boolean
  stop(): void
}

export function watchStaleSockets(): StaleSocketWatch {
  const requestsSent = new WeakMap<Socket, number>()
  const sent = new WeakMap<object, SentRequest>()
  const staleErrors = new WeakSet<object>()

  const onSendHeaders = (message: unknown) => {
    const { request, socket } = message as { request: object; socket: Socket }
    const before = requestsSent.get(socket) ?? 0
    requestsSent.set(socket, before + 1)
    sent.set(request, { socket, reused: before > 0, bytesReadAtSend: socket.bytesRead, sentAtMs: performance.now() })
  }
  const onRequestError = (message: unknown) => {
    const { request, error } = message as { request: object; error: unknown }
    const record = sent.get(request)
    if (!record?.reused || typeof error !== 'object' || error === null) return
    const code = (error as { code?: unknown }).code
    if (typeof code !== 'string' || !DROPPED_CONNECTION_CODES.has(code)) return
    // Any byte read since the request went out means the server answered something: not safe.
    if (record.socket.bytesRead !== record.bytesReadAtSend || performance.now() - record.sentAtMs > STALE_WITHIN_MS) return
    staleErrors.add(error)
  }
  subscribe('undici:client:sendHeaders', onSendHeaders)
  subscribe('undici:request:error', onRequestError)
  return {
    isStaleSocketError: (err) => typeof err === 'object' && err !== null && staleErrors.has(err),
    stop() {
      unsubscribe('undici:client:sendHeaders', onSendHeaders)
      unsubscribe('undici:request:error', onRequestError)
    },
  }
}
