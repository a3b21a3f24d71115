import { and, desc, eq, isNull } from 'drizzle-orm'
import { displayPrefix, generateApiKey, hashApiKey } from '../auth/key-material.js'
import type { GatewayDb } from './client.js'
import { apiKeys, type ApiKeyRow, type KeyRole } from './schema.js'

export interface CreatedKey {
  row: ApiKeyRow
  /** The full key: shown to its owner once, never stored. */
  key: string
}

export async function insertKey(
  db: GatewayDb,
  opts: { teamId: string | null; name: string; role: KeyRole; expiresAt?: number | null },
): Promise<CreatedKey> {
  const key = generateApiKey()
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: `key_${crypto.randomUUID()}`,
      teamId: opts.teamId,
      name: opts.name,
      role: opts.role,
      prefix: displayPrefix(key),
      hash: await hashApiKey(key),
      expiresAt: opts.expiresAt ?? null,
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
