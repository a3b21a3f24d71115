import { administeredTeamId, isGatewayAdmin, type Actor } from '../auth/roles.js'
import { keyInScope, keyNotFound, teamInScope, teamNotFound } from '../auth/scope.js'
import type { GatewayDb } from '../db/client.js'
import { insertKey, listKeys, revokeKey, updateKey } from '../db/keys.js'
import { KEY_ROLES, type ApiKeyRow, type KeyRole, type TeamRow } from '../db/schema.js'
import { findTeamById, listTeams } from '../db/teams.js'
import { audit } from './audit.js'
import { notWiderThanActor, parseKeySettings } from './key-input.js'
import { fail, iso, ok, type OpResult } from './op-result.js'

export interface PublicKey {
  id: string
  name: string
  prefix: string
  role: KeyRole
  team: string | null
  created_at: string
  expires_at: string | null
  revoked_at: string | null
  /** Approximate: written at most once a minute per key. */
  last_used_at: string | null
  allowed_models: string[] | null
  allowed_backends: string[] | null
  /** The key's routing mode over its team's; null = the team's. */
  backend_mode: string | null
  /** Set once the key was rotated: the key that replaces it (this one works until expires_at). */
  replaced_by: string | null
}

/** Listings show the prefix only: the full key exists once, in the create (or rotate) answer. */
export function publicKey(row: ApiKeyRow, teamName: string | null): PublicKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    team: teamName,
    created_at: new Date(row.createdAt).toISOString(),
    expires_at: iso(row.expiresAt),
    revoked_at: iso(row.revokedAt),
    last_used_at: iso(row.lastUsedAt),
    allowed_models: row.allowedModels ?? null,
    allowed_backends: row.allowedBackends ?? null,
    backend_mode: row.backendMode,
    replaced_by: row.replacedBy,
  }
}

export async function teamNameOf(db: GatewayDb, teamId: string | null): Promise<string | null> {
  return teamId ? ((await findTeamById(db, teamId))?.name ?? null) : null
}

/** What an audit entry says about a key: never the key or its hash. */
export const keyDetails = (k: PublicKey) => ({ name: k.name, prefix: k.prefix, role: k.role, expires_at: k.expires_at, allowed_models: k.allowed_models, allowed_backends: k.allowed_backends, backend_mode: k.backend_mode })

export interface CreateKeyInput {
  team?: unknown
  name?: unknown
  role?: unknown
  expires_at?: unknown
  allowed_models?: unknown
  allowed_backends?: unknown
  backend_mode?: unknown
}

/**
 * A team-admin creates member or team-admin keys for its own team only (team defaults to it);
 * admin keys, and keys for other teams, need a gateway admin.
 */
export async function createKey(db: GatewayDb, actor: Actor, input: CreateKeyInput): Promise<OpResult<PublicKey & { key: string }>> {
  const role = input.role ?? 'member'
  if (!(KEY_ROLES as readonly unknown[]).includes(role)) return fail(400, 'invalid_role', `role must be one of ${KEY_ROLES.join(', ')}`)
  if (role === 'admin' && !isGatewayAdmin(actor)) return fail(403, 'role_not_allowed', 'Only gateway admins can create admin keys')
  if (typeof input.name !== 'string' || input.name.length === 0 || input.name.length > 100) return fail(400, 'invalid_key_name', 'name is required (1-100 characters)')
  const parsed = parseKeySettings(input)
  if (!parsed.ok) return parsed
  const settings = parsed.value
  let team: TeamRow | undefined
  if (role === 'admin') {
    if (input.team !== undefined && input.team !== null) return fail(400, 'invalid_role', 'admin keys are gateway-wide: omit team')
  } else {
    const ref = input.team ?? administeredTeamId(actor)
    if (typeof ref !== 'string') return fail(400, 'invalid_team', 'team is required (name or id)')
    team = await teamInScope(db, actor, ref)
    if (!team) return { ok: false, ...teamNotFound(ref) }
  }
  // Omitted restrictions are inherited from a restricted actor rather than widened to "any".
  const allowedModels = settings.allowedModels === undefined ? (actor.allowedModels ? [...actor.allowedModels] : null) : settings.allowedModels
  const allowedBackends = settings.allowedBackends === undefined ? (actor.allowedBackends ? [...actor.allowedBackends] : null) : settings.allowedBackends
  const within = notWiderThanActor(actor, { models: allowedModels, backends: allowedBackends })
  if (!within.ok) return within
  const created = await insertKey(db, { teamId: team?.id ?? null, name: input.name, role: role as KeyRole, expiresAt: settings.expiresAt ?? null, allowedModels, allowedBackends, backendMode: settings.backendMode ?? null })
  const value = { ...publicKey(created.row, team?.name ?? null), key: created.key }
  await audit(db, actor, { teamId: team?.id ?? null, action: 'key.create', target: value.id, details: keyDetails(value) })
  return ok(value)
}

/** Keys in the actor's scope: all (or one team's) for gateway admins, its own team's for a team-admin. */
export async function keysOf(db: GatewayDb, actor: Actor, team: string | undefined): Promise<OpResult<PublicKey[]>> {
  let teamId: string | undefined
  if (team !== undefined) {
    const row = await teamInScope(db, actor, team)
    if (!row) return { ok: false, ...teamNotFound(team) }
    teamId = row.id
  } else if (!isGatewayAdmin(actor)) {
    teamId = administeredTeamId(actor)
    if (teamId === undefined) return fail(403, 'admin_required', 'Listing keys needs an admin or team-admin key')
  }
  const names = new Map((await listTeams(db)).map((t) => [t.id, t.name]))
  const rows = await listKeys(db, teamId)
  return ok(rows.map((r) => publicKey(r, r.teamId ? (names.get(r.teamId) ?? null) : null)))
}

export async function revoke(db: GatewayDb, actor: Actor, id: string): Promise<OpResult<{ id: string; revoked: true; team_id: string | null }>> {
  const row = await keyInScope(db, actor, id)
  if (!row) return { ok: false, ...keyNotFound(id) }
  if (!(await revokeKey(db, id))) return fail(409, 'key_already_revoked', `Key '${id}' was already revoked`)
  await audit(db, actor, { teamId: row.teamId, action: 'key.revoke', target: id, details: { name: row.name, prefix: row.prefix, role: row.role } })
  return ok({ id, revoked: true, team_id: row.teamId })
}

export interface UpdateKeyInput {
  name?: unknown
  expires_at?: unknown
  allowed_models?: unknown
  allowed_backends?: unknown
  backend_mode?: unknown
  role?: unknown
}

/** Changes a key's name, expiry or restrictions. Roles do not change: create a new key instead. */
export async function updateKeySettings(db: GatewayDb, actor: Actor, id: string, input: UpdateKeyInput): Promise<OpResult<PublicKey>> {
  const row = await keyInScope(db, actor, id)
  if (!row) return { ok: false, ...keyNotFound(id) }
  if (row.revokedAt !== null) return fail(409, 'key_revoked', `Key '${id}' is revoked`)
  if (input.role !== undefined) return fail(400, 'role_immutable', 'A key keeps its role: create a new key with the other role and revoke this one')
  if (input.name !== undefined && (typeof input.name !== 'string' || input.name.length === 0 || input.name.length > 100)) return fail(400, 'invalid_key_name', 'name must be 1-100 characters')
  const parsed = parseKeySettings(input)
  if (!parsed.ok) return parsed
  const settings = parsed.value
  const within = notWiderThanActor(actor, { models: settings.allowedModels === undefined ? actor.allowedModels : settings.allowedModels, backends: settings.allowedBackends === undefined ? actor.allowedBackends : settings.allowedBackends })
  if (!within.ok) return within
  const patch = {
    ...(input.name !== undefined ? { name: input.name as string } : {}),
    ...(input.expires_at !== undefined ? { expiresAt: settings.expiresAt ?? null } : {}),
    ...(settings.allowedModels !== undefined ? { allowedModels: settings.allowedModels } : {}),
    ...(settings.allowedBackends !== undefined ? { allowedBackends: settings.allowedBackends } : {}),
    ...(settings.backendMode !== undefined ? { backendMode: settings.backendMode } : {}),
  }
  if (Object.keys(patch).length === 0) return fail(400, 'invalid_request_error', 'Nothing to change: send name, expires_at, allowed_models, allowed_backends and/or backend_mode')
  const updated = await updateKey(db, id, patch)
  if (!updated) return { ok: false, ...keyNotFound(id) }
  const value = publicKey(updated, await teamNameOf(db, updated.teamId))
  const changed = Object.fromEntries(Object.entries(input).filter(([field, v]) => v !== undefined && field !== 'role'))
  await audit(db, actor, { teamId: row.teamId, action: 'key.update', target: id, details: { prefix: row.prefix, changes: changed } })
  return ok(value)
}
