/**
 * Tunnel safety: every request except /health (and /metrics when opened) must be signed by the gateway.
 * The signature covers the exact body bytes, so the body is read once here, verified, and handed on.
 */
import type { MiddlewareHandler } from 'hono'
import { openAIErrorResponse } from '../src/openai/errors.js'
import { readChunks } from './streams.js'
import { NonceCache, verifyRequest, type VerifyFailure } from '../src/signing.js'

export type NodeHostEnv = { Variables: { rawBody: Uint8Array } }

const FAILURE_MESSAGES: Record<VerifyFailure, string> = {
  missing: 'Missing request signature',
  malformed: 'Malformed request signature',
  stale: 'Request timestamp is too far from the server clock',
  bad_signature: 'Invalid request signature',
  replayed: 'Request was already used (replayed nonce)',
}

export function signatureAuth(opts: { key: CryptoKey | undefined; maxBodyBytes: number; isOpen: (path: string) => boolean }): MiddlewareHandler<NodeHostEnv> {
  const nonces = new NonceCache()
  return async (c, next) => {
    const url = new URL(c.req.url)
    const declared = Number(c.req.header('content-length') ?? 0)
    if (declared > opts.maxBodyBytes) return openAIErrorResponse(413, 'request_too_large', `Request body exceeds ${opts.maxBodyBytes} bytes`)
    const body = await readBodyLimited(c.req.raw, opts.maxBodyBytes)
    if (!body) return openAIErrorResponse(413, 'request_too_large', `Request body exceeds ${opts.maxBodyBytes} bytes`)
    c.set('rawBody', body)
    if (!opts.key || opts.isOpen(url.pathname)) return next()
    const failure = await verifyRequest(opts.key, nonces, {
      method: c.req.method,
      pathAndQuery: url.pathname + url.search,
      body,
      headers: c.req.raw.headers,
    })
    if (failure) return openAIErrorResponse(401, `signature_${failure}`, FAILURE_MESSAGES[failure])
    return next()
  }
}

/** Reads the whole body, or returns undefined as soon as it passes `maxBytes` (chunked bodies have no length). */
async function readBodyLimited(req: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!req.body) return new Uint8Array(0)
  const parts: Uint8Array[] = []
  let total = 0
  for await (const part of readChunks(req.body)) {
    total += part.length
    if (total > maxBytes) return undefined
    parts.push(part)
  }
  const out = new Uint8Array(total)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
