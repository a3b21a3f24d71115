import { and, desc, eq, isNull, sql } from 'drizzle-orm'
import { displayPrefix, generateApiKey, hashApiKey } from '../auth/key-material.js'
import type { GatewayDb } from './client.js'
import { apiKeys, type ApiKeyRow, type BackendMode, type KeyRole } from './schema.js'

export interface CreatedKey {
  row: ApiKeyRow
  /** The full key: shown to its owner once, never stored. */
  key: string
}

/** What a key may do beyond its team's settings; carried over when the key is rotated. */
export interface KeyRestrictions {
  allowedModels?: string[] | null
  allowedBackends?: string[] | null
  backendMode?: BackendMode | null
}

export const newKeyId = () => `key_${crypto.randomUUID()}`

export async function insertKey(
  db: GatewayDb,
  opts: { id?: string; teamId: string | null; name: string; role: KeyRole; expiresAt?: number | null } & KeyRestrictions,
): Promise<CreatedKey> {
  const key = generateApiKey()
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: opts.id ?? newKeyId(),
      teamId: opts.teamId,
      name: opts.name,
      role: opts.role,
      prefix: displayPrefix(key),
      hash: await hashApiKey(key),
      expiresAt: opts.expiresAt ?? null,
      allowedModels: opts.allowedModels ?? null,
      allowedBackends: opts.allowedBackends ?? null,
      backendMode: opts.backendMode ?? null,
    })
    .returning()
  if (!row) throw new Error('insert returned no key')
  return { row, key }
}

export async function findKeyByHash(db: GatewayDb, hash: string): Promise<ApiKeyRow | undefined> {
  return db.select().from(apiKeys).where(eq(apiKeys.hash, hash)).get()
}

export async function findKeyById(db: GatewayDb, id: string): Promise<ApiKeyRow | undefined> {
  return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get()
}

export async function listKeys(db: GatewayDb, teamId?: string): Promise<ApiKeyRow[]> {
  const query = db.select().from(apiKeys)
  return (teamId ? query.where(eq(apiKeys.teamId, teamId)) : query).orderBy(desc(apiKeys.createdAt)).all()
}

/** Revokes a key; false when it does not exist or was revoked already. */
export async function revokeKey(db: GatewayDb, id: string, atMs = Date.now()): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: atMs })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id })
  return rows.length > 0
}

export async function hasAdminKey(db: GatewayDb): Promise<boolean> {
  const row = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.role, 'admin'), isNull(apiKeys.teamId), isNull(apiKeys.revokedAt)))
    .get()
  return row !== undefined
}

export async function updateKey(
  db: GatewayDb,
  id: string,
  patch: { name?: string; expiresAt?: number | null; allowedModels?: string[] | null; allowedBackends?: string[] | null; backendMode?: BackendMode | null },
): Promise<ApiKeyRow | undefined> {
  const [row] = await db.update(apiKeys).set(patch).where(eq(apiKeys.id, id)).returning()
  return row
}

/**
 * Marks a key as replaced by `newId` and ends it at `endsAtMs` (or earlier, if it already
 * expired sooner). Conditional on the key being live and not rotated yet, so of two
 * concurrent rotations exactly one wins; undefined for the loser.
 */
export async function claimRotation(db: GatewayDb, id: string, newId: string, endsAtMs: number): Promise<ApiKeyRow | undefined> {
  const [row] = await db
    .update(apiKeys)
    .set({ replacedBy: newId, expiresAt: sql`min(coalesce(${apiKeys.expiresAt}, ${endsAtMs}), ${endsAtMs})` })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt), isNull(apiKeys.replacedBy)))
    .returning()
  return row
}

/** Undoes claimRotation when the replacement could not be stored. */
export async function releaseRotation(db: GatewayDb, id: string, previousExpiresAt: number | null): Promise<void> {
  await db.update(apiKeys).set({ replacedBy: null, expiresAt: previousExpiresAt }).where(eq(apiKeys.id, id))
}

export async function setLastUsed(db: GatewayDb, id: string, atMs: number): Promise<void> {
  await db.update(apiKeys).set({ lastUsedAt: atMs }).where(eq(apiKeys.id, id))
}
