/**
 * Answers for requests Node's HTTP layer refuses before the app sees them (malformed request
 * lines or headers, CR/LF injection, oversized heads, CONNECT). Node's own answers have an empty
 * body (or none, for CONNECT); OpenAI clients expect `{error:{message,type,code}}`.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { openAIErrorBody } from '../openai/errors.js'

const REASONS: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify(openAIErrorBody(status, code, message))
  socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}

/** For the server's 'clientError' event: the same statuses Node would send, with a JSON body. */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // A response already under way on this connection cannot be followed by another one.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy()
    return
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') return refuse(socket, 431, 'headers_too_large', 'Request headers are too large')
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return refuse(socket, 408, 'request_timeout', 'The request was not received in time')
  refuse(socket, 400, 'malformed_http', 'Malformed HTTP request')
}

/** For the server's 'connect' event: the gateway is not a proxy. */
export function answerConnect(_req: IncomingMessage, socket: Duplex): void {
  refuse(socket, 405, 'method_not_allowed', 'CONNECT is not supported')
}

