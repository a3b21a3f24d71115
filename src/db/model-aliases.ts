import { eq } from 'drizzle-orm'
import type { GatewayDb } from './client.js'
import { modelAliases, type ModelAliasRow } from './schema.js'

export async function listModelAliases(db: GatewayDb): Promise<ModelAliasRow[]> {
  return db.select().from(modelAliases).orderBy(modelAliases.alias).all()
}

export async function upsertModelAlias(db: GatewayDb, row: ModelAliasRow): Promise<ModelAliasRow> {
  const { alias, ...rest } = row
  const [saved] = await db.insert(modelAliases).values(row).onConflictDoUpdate({ target: modelAliases.alias, set: rest }).returning()
  if (!saved) throw new Error('upsert returned no alias')
  return saved
}

/** The deleted row, or undefined when there was none. */
export async function deleteModelAlias(db: GatewayDb, alias: string): Promise<ModelAliasRow | undefined> {
  const [row] = await db.delete(modelAliases).where(eq(modelAliases.alias, alias)).returning()
  return row
}
