/**
 * HTTP/1.1 over a bare TCP socket, for requests fetch and undici refuse to send: CR/LF in header
 * values, lying or duplicate content-lengths, unknown methods, raw invalid bytes.
 */
import { connect } from 'node:net'

export interface RawResponse {
  status: number
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>
  body: Buffer
}

/** Sends `request` as is on a fresh connection and reads the answer until the server closes it (or `timeoutMs`). */
export function sendRaw(port: number, request: Buffer | string, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    const parts: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no complete answer within ${timeoutMs} ms`))
    }, timeoutMs)
    const finish = () => {
      clearTimeout(timer)
      try {
        resolve(parseResponse(Buffer.concat(parts)))
      } catch (err) {
        reject(err)
      }
    }
    socket.on('data', (chunk: Buffer) => {
      parts.push(chunk)
      // Servers may keep the connection open after a complete answer: stop once it is whole.
      if (isComplete(Buffer.concat(parts))) {
        socket.destroy()
        finish()
      }
    })
    socket.on('end', finish)
    // A reset after the server answered and closed is still an answer.
    socket.on('error', (err) => (parts.length > 0 ? finish() : (clearTimeout(timer), reject(err))))
    socket.write(request)
  })
}

/** The final response's head and what follows it; interim 1xx answers (100 Continue) are skipped. */
function splitHead(raw: Buffer): { head: string; rest: Buffer } | undefined {
  const end = raw.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const head = raw.subarray(0, end).toString('latin1')
  if (/^HTTP\/1\.[01] 1\d\d/.test(head)) return splitHead(raw.subarray(end + 4))
  return { head, rest: raw.subarray(end + 4) }
}

function headersOf(head: string): { status: number; headers: Record<string, string> } {
  const [statusLine = '', ...lines] = head.split('\r\n')
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)
  if (!match?.[1]) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 80))}`)
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  return { status: Number(match[1]), headers }
}

/** De-chunks a chunked body; undefined while it is incomplete. */
function dechunk(raw: Buffer): Buffer | undefined {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at)
    if (lineEnd < 0) return undefined
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16)
    if (Number.isNaN(size)) throw new Error('bad chunk size')
    if (size === 0) return Buffer.concat(out)
    if (raw.length < lineEnd + 2 + size + 2) return undefined
    out.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
}

function bodyOf(headers: Record<string, string>, rest: Buffer): Buffer | undefined {
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) return dechunk(rest)
  const length = headers['content-length']
  if (length !== undefined) return rest.length >= Number(length) ? rest.subarray(0, Number(length)) : undefined
  return undefined
}

function isComplete(raw: Buffer): boolean {
  const split = splitHead(raw)
  if (!split) return false
  return bodyOf(headersOf(split.head).headers, split.rest) !== undefined
}

function parseResponse(raw: Buffer): RawResponse {
  const split = splitHead(raw)
  if (!split) throw new Error(`incomplete response head: ${JSON.stringify(raw.subarray(0, 80).toString('latin1'))}`)
  const { status, headers } = headersOf(split.head)
  return { status, headers, body: bodyOf(headers, split.rest) ?? split.rest }
}
