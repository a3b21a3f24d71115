import { base64UrlEncode } from '../base64url.js'
import { sha256Hex } from '../signing.js'

/** Keys look like `mgw_<43 base64url chars>`: 256 bits of randomness. */
export const KEY_PREFIX = 'mgw_'
const DISPLAY_PREFIX_LENGTH = KEY_PREFIX.length + 8

export function generateApiKey(): string {
  return KEY_PREFIX + base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)))
}

/**
 * Keys carry 256 random bits, so a fast hash is enough (no password stretching needed),
 * and looking a key up by its hash reveals nothing about the key through timing.
 */
export function hashApiKey(key: string): Promise<string> {
  return sha256Hex(key)
}

export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH)
}

/** The token from an `Authorization: Bearer ...` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}
