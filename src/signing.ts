/**
 * Request signing between the gateway and node-host, shared by both sides.
 *
 * The signature is HMAC-SHA256 over `v1\nMETHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nSHA256(body)`,
 * so a signed request cannot be replayed to another path, with another body,
 * or (given the nonce cache on the verifier) twice. Web Crypto only: runs in
 * workerd and Node alike.
 */

export const SIGNATURE_HEADER = 'x-moe-signature'
export const TIMESTAMP_HEADER = 'x-moe-timestamp'
export const NONCE_HEADER = 'x-moe-nonce'

/** How far a request's timestamp may be from the verifier's clock. */
export const MAX_CLOCK_SKEW_SECONDS = 60

const encoder = new TextEncoder()

export type SignedHeaders = Record<
  typeof SIGNATURE_HEADER | typeof TIMESTAMP_HEADER | typeof NONCE_HEADER,
  string
>

export async function importSigningKey(secret: string): Promise<CryptoKey> {
  if (secret.length < 16) throw new Error('node-host secret must be at least 16 characters')
  return crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  )
}

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let out = ''
  for (const b of view) out += b.toString(16).padStart(2, '0')
  return out
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return undefined
  const out = new Uint8Array(new ArrayBuffer(hex.length / 2))
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

export async function sha256Hex(body: Uint8Array | string): Promise<string> {
  // Copy foreign views (e.g. Node Buffers over a shared pool) into a plain ArrayBuffer view.
  const bytes = typeof body === 'string' ? encoder.encode(body) : new Uint8Array(body)
  return toHex(await crypto.subtle.digest('SHA-256', bytes))
}

function canonicalString(method: string, pathAndQuery: string, timestamp: string, nonce: string, bodyHash: string): string {
  return ['v1', method.toUpperCase(), pathAndQuery, timestamp, nonce, bodyHash].join('\n')
}

/**
 * Signs one request.
 * @example const headers = await signRequest(key, { method: 'POST', pathAndQuery: '/v1/chat/completions', body })
 */
export async function signRequest(
  key: CryptoKey,
  req: { method: string; pathAndQuery: string; body: Uint8Array | string; nowSeconds?: number },
): Promise<SignedHeaders> {
  const timestamp = String(req.nowSeconds ?? Math.floor(Date.now() / 1000))
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(16)))
  const bodyHash = await sha256Hex(req.body)
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(canonicalString(req.method, req.pathAndQuery, timestamp, nonce, bodyHash)))
  return { [SIGNATURE_HEADER]: `v1=${toHex(mac)}`, [TIMESTAMP_HEADER]: timestamp, [NONCE_HEADER]: nonce }
}

export type VerifyFailure = 'missing' | 'malformed' | 'stale' | 'bad_signature' | 'replayed'

/**
 * Remembers nonces for the skew window so a captured request cannot be sent again.
 * Bounded: beyond `maxEntries` the oldest are dropped (they would be stale soon anyway).
 */
export class NonceCache {
  private readonly seen = new Map<string, number>()
  constructor(private readonly maxEntries = 100_000) {}

  /** Returns false when the nonce was already seen within its lifetime. */
  remember(nonce: string, expiresAtMs: number, nowMs = Date.now()): boolean {
    if (this.seen.size >= this.maxEntries) this.sweep(nowMs)
    const prior = this.seen.get(nonce)
    if (prior !== undefined && prior > nowMs) return false
    this.seen.set(nonce, expiresAtMs)
    return true
  }

  private sweep(nowMs: number): void {
    for (const [nonce, expiresAt] of this.seen) if (expiresAt <= nowMs) this.seen.delete(nonce)
    // Still full of live nonces: drop the oldest insertions.
    for (const nonce of this.seen.keys()) {
      if (this.seen.size < this.maxEntries) break
      this.seen.delete(nonce)
    }
  }
}

/**
 * Verifies a signed request. `crypto.subtle.verify` compares in constant time.
 * @returns undefined when valid, else why not.
 */
export async function verifyRequest(
  key: CryptoKey,
  nonces: NonceCache,
  req: { method: string; pathAndQuery: string; body: Uint8Array | string; headers: { get(name: string): string | null }; nowSeconds?: number },
): Promise<VerifyFailure | undefined> {
  const signature = req.headers.get(SIGNATURE_HEADER)
  const timestamp = req.headers.get(TIMESTAMP_HEADER)
  const nonce = req.headers.get(NONCE_HEADER)
  if (!signature || !timestamp || !nonce) return 'missing'
  if (!signature.startsWith('v1=') || !/^\d{1,12}$/.test(timestamp) || !/^[0-9a-f]{16,64}$/i.test(nonce)) return 'malformed'
  const mac = fromHex(signature.slice(3))
  if (!mac || mac.length !== 32) return 'malformed'
  const now = req.nowSeconds ?? Math.floor(Date.now() / 1000)
  if (Math.abs(now - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS) return 'stale'
  const bodyHash = await sha256Hex(req.body)
  const ok = await crypto.subtle.verify('HMAC', key, mac, encoder.encode(canonicalString(req.method, req.pathAndQuery, timestamp, nonce, bodyHash)))
  if (!ok) return 'bad_signature'
  // Only a valid signature may claim a nonce, so forgeries cannot evict real ones.
  const expiresAtMs = (Number(timestamp) + MAX_CLOCK_SKEW_SECONDS + 1) * 1000
  if (!nonces.remember(nonce.toLowerCase(), expiresAtMs, now * 1000)) return 'replayed'
  return undefined
}
