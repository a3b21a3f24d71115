import type { Actor } from '../auth/roles.js'
import { keyInScope, keyNotFound } from '../auth/scope.js'
import type { GatewayDb } from '../db/client.js'
import { claimRotation, insertKey, newKeyId, releaseRotation } from '../db/keys.js'
import { audit } from './audit.js'
import { parseExpiry, parseGraceSeconds } from './key-input.js'
import { keyDetails, publicKey, teamNameOf, type PublicKey } from './keys.js'
import { fail, iso, ok, type OpResult } from './op-result.js'

export interface RotatedKey extends PublicKey {
  /** The new key, shown this once. */
  key: string
  /** The key it replaces, and until when that one still works. */
  replaces: { id: string; expires_at: string | null }
}

/**
 * Issues a new key with the same team, role, name and restrictions; the old key keeps
 * working for `grace_seconds` (default 3600) so clients can switch without an outage.
 * The new key's own expiry is `expires_at` if given, else none.
 */
export async function rotateKey(db: GatewayDb, actor: Actor, id: string, input: { grace_seconds?: unknown; expires_at?: unknown }, nowMs = Date.now()): Promise<OpResult<RotatedKey>> {
  const row = await keyInScope(db, actor, id)
  if (!row) return { ok: false, ...keyNotFound(id) }
  if (row.revokedAt !== null) return fail(409, 'key_revoked', `Key '${id}' is revoked; create a new key instead`)
  if (row.replacedBy !== null) return fail(409, 'key_already_rotated', `Key '${id}' was already rotated (replaced by ${row.replacedBy})`)
  if (row.expiresAt !== null && row.expiresAt <= nowMs) return fail(409, 'key_expired', `Key '${id}' has expired; create a new key instead`)
  const grace = parseGraceSeconds(input.grace_seconds)
  if (!grace.ok) return grace
  const expiry = parseExpiry(input.expires_at)
  if (!expiry.ok) return expiry

  const newId = newKeyId()
  // Claim first: of two concurrent rotations only one gets here, and no orphan key is created.
  const claimed = await claimRotation(db, id, newId, nowMs + grace.value * 1000)
  if (!claimed) return fail(409, 'key_already_rotated', `Key '${id}' was rotated or revoked meanwhile`)
  let created
  try {
    created = await insertKey(db, { id: newId, teamId: row.teamId, name: row.name, role: row.role, expiresAt: expiry.value ?? null, allowedModels: row.allowedModels, allowedBackends: row.allowedBackends, backendMode: row.backendMode })
  } catch (err) {
    await releaseRotation(db, id, row.expiresAt)
    throw err
  }
  const value: RotatedKey = { ...publicKey(created.row, await teamNameOf(db, row.teamId)), key: created.key, replaces: { id, expires_at: iso(claimed.expiresAt) } }
  await audit(db, actor, { teamId: row.teamId, action: 'key.rotate', target: id, details: { old_prefix: row.prefix, old_key_expires_at: iso(claimed.expiresAt), grace_seconds: grace.value, new_key_id: newId, new_key: keyDetails(value) } })
  return ok(value)
}
