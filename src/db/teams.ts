import { and, eq, isNotNull, isNull } from 'drizzle-orm'
import type { GatewayDb } from './client.js'
import { teams, type BackendMode, type TeamRow } from './schema.js'

export async function insertTeam(db: GatewayDb, name: string): Promise<TeamRow> {
  const [row] = await db.insert(teams).values({ id: `team_${crypto.randomUUID()}`, name }).returning()
  if (!row) throw new Error('insert returned no team')
  return row
}

export async function findTeamByName(db: GatewayDb, name: string): Promise<TeamRow | undefined> {
  return db.select().from(teams).where(eq(teams.name, name)).get()
}

export async function findTeamById(db: GatewayDb, id: string): Promise<TeamRow | undefined> {
  return db.select().from(teams).where(eq(teams.id, id)).get()
}

/** A team by id or by name: admin routes and the CLI accept either. */
export async function findTeam(db: GatewayDb, idOrName: string): Promise<TeamRow | undefined> {
  return idOrName.startsWith('team_') ? findTeamById(db, idOrName) : findTeamByName(db, idOrName)
}

export async function listTeams(db: GatewayDb): Promise<TeamRow[]> {
  return db.select().from(teams).orderBy(teams.name).all()
}

export async function updateTeamRouting(
  db: GatewayDb,
  id: string,
  patch: { backendMode?: BackendMode | null; allowBackendOverride?: boolean; onHostedBudgetExhausted?: 'refuse' | 'local'; defaultDeadlineMs?: number | null; hostedDisabledAt?: number | null; hostedDisabledReason?: string | null },
): Promise<TeamRow | undefined> {
  const [row] = await db.update(teams).set(patch).where(eq(teams.id, id)).returning()
  return row
}

/** Marks hosted off for a team unless it already is (the first 402 keeps its time); the row when this changed it. */
export async function disableHosted(db: GatewayDb, id: string, atMs: number, reason: string): Promise<TeamRow | undefined> {
  const [row] = await db.update(teams).set({ hostedDisabledAt: atMs, hostedDisabledReason: reason }).where(and(eq(teams.id, id), isNull(teams.hostedDisabledAt))).returning()
  return row
}

/** Turns hosted back on; the updated row, or undefined when it was not off (nothing to audit). */
export async function enableHosted(db: GatewayDb, id: string): Promise<TeamRow | undefined> {
  const [row] = await db.update(teams).set({ hostedDisabledAt: null, hostedDisabledReason: null }).where(and(eq(teams.id, id), isNotNull(teams.hostedDisabledAt))).returning()
  return row
}
