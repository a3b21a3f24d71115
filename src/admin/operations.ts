import type { GatewayDb } from '../db/client.js'
import { findKeyById, insertKey, listKeys, revokeKey } from '../db/keys.js'
import { BACKEND_MODES, KEY_ROLES, type ApiKeyRow, type BackendMode, type KeyRole, type TeamRow } from '../db/schema.js'
import { findTeam, insertTeam, listTeams, updateTeamRouting } from '../db/teams.js'

/** Admin operations shared by the HTTP admin API and the CLI's local mode. */
export type OpResult<T> = { ok: true; value: T } | { ok: false; status: 400 | 404 | 409; code: string; message: string }

const fail = (status: 400 | 404 | 409, code: string, message: string): OpResult<never> => ({ ok: false, status, code, message })
const TEAM_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i

export interface PublicTeam {
  id: string
  name: string
  backend_mode: BackendMode | null
  allow_backend_override: boolean
  created_at: string
}

export interface PublicKey {
  id: string
  name: string
  prefix: string
  role: KeyRole
  team: string | null
  created_at: string
  expires_at: string | null
  revoked_at: string | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function publicTeam(row: TeamRow): PublicTeam {
  return { id: row.id, name: row.name, backend_mode: row.backendMode, allow_backend_override: row.allowBackendOverride, created_at: new Date(row.createdAt).toISOString() }
}

/** Listings show the prefix only: the full key exists once, in the create answer. */
export function publicKey(row: ApiKeyRow, teamName: string | null): PublicKey {
  return { id: row.id, name: row.name, prefix: row.prefix, role: row.role, team: teamName, created_at: new Date(row.createdAt).toISOString(), expires_at: iso(row.expiresAt), revoked_at: iso(row.revokedAt) }
}

export async function createTeam(db: GatewayDb, name: unknown): Promise<OpResult<PublicTeam>> {
  if (typeof name !== 'string' || !TEAM_NAME.test(name)) return fail(400, 'invalid_team_name', 'Team name must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit')
  if (name.startsWith('team_')) return fail(400, 'invalid_team_name', 'Team names may not start with "team_" (reserved for ids)')
  if (await findTeam(db, name)) return fail(409, 'team_exists', `Team '${name}' already exists`)
  return { ok: true, value: publicTeam(await insertTeam(db, name)) }
}

export async function allTeams(db: GatewayDb): Promise<PublicTeam[]> {
  return (await listTeams(db)).map(publicTeam)
}

export async function setTeamRouting(db: GatewayDb, team: string, patch: { backend_mode?: unknown; allow_backend_override?: unknown }): Promise<OpResult<PublicTeam>> {
  const row = await findTeam(db, team)
  if (!row) return fail(404, 'team_not_found', `No team '${team}'`)
  const update: { backendMode?: BackendMode | null; allowBackendOverride?: boolean } = {}
  if (patch.backend_mode !== undefined) {
    if (patch.backend_mode !== null && !(BACKEND_MODES as readonly unknown[]).includes(patch.backend_mode)) {
      return fail(400, 'invalid_backend_mode', `backend_mode must be one of ${BACKEND_MODES.join(', ')} (or null for the gateway default)`)
    }
    update.backendMode = patch.backend_mode as BackendMode | null
  }
  if (patch.allow_backend_override !== undefined) {
    if (typeof patch.allow_backend_override !== 'boolean') return fail(400, 'invalid_request_error', 'allow_backend_override must be a boolean')
    update.allowBackendOverride = patch.allow_backend_override
  }
  if (Object.keys(update).length === 0) return fail(400, 'invalid_request_error', 'Nothing to change: send backend_mode and/or allow_backend_override')
  const updated = await updateTeamRouting(db, row.id, update)
  return updated ? { ok: true, value: publicTeam(updated) } : fail(404, 'team_not_found', `No team '${team}'`)
}

export async function createKey(
  db: GatewayDb,
  input: { team?: unknown; name?: unknown; role?: unknown; expires_at?: unknown },
): Promise<OpResult<PublicKey & { key: string }>> {
  const role = input.role ?? 'member'
  if (!(KEY_ROLES as readonly unknown[]).includes(role)) return fail(400, 'invalid_role', `role must be one of ${KEY_ROLES.join(', ')}`)
  if (typeof input.name !== 'string' || input.name.length === 0 || input.name.length > 100) return fail(400, 'invalid_key_name', 'name is required (1-100 characters)')
  let expiresAt: number | null = null
  if (input.expires_at !== undefined && input.expires_at !== null) {
    expiresAt = typeof input.expires_at === 'string' ? Date.parse(input.expires_at) : NaN
    if (!Number.isFinite(expiresAt)) return fail(400, 'invalid_expiry', 'expires_at must be an ISO 8601 date')
  }
  let team: TeamRow | undefined
  if (role === 'admin') {
    if (input.team !== undefined && input.team !== null) return fail(400, 'invalid_role', 'admin keys are gateway-wide: omit team')
  } else {
    if (typeof input.team !== 'string') return fail(400, 'invalid_team', 'team is required (name or id)')
    team = await findTeam(db, input.team)
    if (!team) return fail(404, 'team_not_found', `No team '${input.team}'`)
  }
  const created = await insertKey(db, { teamId: team?.id ?? null, name: input.name, role: role as KeyRole, expiresAt })
  return { ok: true, value: { ...publicKey(created.row, team?.name ?? null), key: created.key } }
}

export async function keysOf(db: GatewayDb, team: string | undefined): Promise<OpResult<PublicKey[]>> {
  const teams = new Map((await listTeams(db)).map((t) => [t.id, t.name]))
  let teamId: string | undefined
  if (team !== undefined) {
    const row = await findTeam(db, team)
    if (!row) return fail(404, 'team_not_found', `No team '${team}'`)
    teamId = row.id
  }
  const rows = await listKeys(db, teamId)
  return { ok: true, value: rows.map((r) => publicKey(r, r.teamId ? (teams.get(r.teamId) ?? null) : null)) }
}

export async function revoke(db: GatewayDb, id: string): Promise<OpResult<{ id: string; revoked: true; team_id: string | null }>> {
  const row = await findKeyById(db, id)
  if (!row) return fail(404, 'key_not_found', `No key '${id}'`)
  if (!(await revokeKey(db, id))) return fail(409, 'key_already_revoked', `Key '${id}' was already revoked`)
  return { ok: true, value: { id, revoked: true, team_id: row.teamId } }
}
