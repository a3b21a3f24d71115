import { constantTimeEqual } from '../auth/constant-time.js'
import { base64UrlEncode } from '../base64url.js'

const encoder = new TextEncoder()

/** HMAC-SHA256 tags for the dashboard's cookies and forms, one secret, separated by purpose. */
export interface Signer {
  /** base64url tag of `message` for `purpose` ('session', 'csrf', 'sign-in'). */
  tag(purpose: string, message: string): Promise<string>
  /** Whether `given` is the tag of `message`, compared in constant time. */
  verify(purpose: string, message: string, given: string): Promise<boolean>
}

/** A random token of `bytes` bytes, base64url. */
export function randomToken(bytes = 32): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)))
}

export async function hmacSigner(secret: string): Promise<Signer> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  // The purpose goes first, so a tag made for one use is never valid for another.
  const tag = async (purpose: string, message: string) => base64UrlEncode(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(`moe-dashboard/${purpose}\n${message}`))))
  return {
    tag,
    async verify(purpose, message, given) {
      return constantTimeEqual(await tag(purpose, message), given)
    },
  }
}

/**
 * The signer, its secret loaded on first use and kept once loaded. Only the result is shared:
 * a Worker isolate must not await another request's pending database call, so requests that
 * race at start each load (the secret's insert-or-ignore makes them agree).
 */
export function lazySigner(loadSecret: () => Promise<string>): () => Promise<Signer> {
  let signer: Signer | undefined
  return async () => (signer ??= await hmacSigner(await loadSecret()))
}
