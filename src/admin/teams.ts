import { administeredTeamId, isGatewayAdmin, type Actor } from '../auth/roles.js'
import { teamInScope, teamNotFound } from '../auth/scope.js'
import type { GatewayDb } from '../db/client.js'
import { BACKEND_MODES, type BackendMode, type TeamRow } from '../db/schema.js'
import { findTeam, insertTeam, listTeams, updateTeamRouting } from '../db/teams.js'
import { audit } from './audit.js'
import { parseHostedBudgetExhausted, type HostedBudgetExhausted } from './budgets.js'
import { fail, ok, type OpResult } from './op-result.js'

const TEAM_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i

export interface PublicTeam {
  id: string
  name: string
  backend_mode: BackendMode | null
  allow_backend_override: boolean
  on_hosted_budget_exhausted: 'refuse' | 'local'
  /** `auto` routing's deadline for requests without x-moe-deadline-ms; null = the gateway's. */
  default_deadline_ms: number | null
  /** When a DeepSeek 402 (or an admin) turned hosted off for the team; null while it is on. */
  hosted_disabled_at: string | null
  hosted_disabled_reason: string | null
  created_at: string
}

export function publicTeam(row: TeamRow): PublicTeam {
  return { id: row.id, name: row.name, backend_mode: row.backendMode, allow_backend_override: row.allowBackendOverride, on_hosted_budget_exhausted: row.onHostedBudgetExhausted, default_deadline_ms: row.defaultDeadlineMs, hosted_disabled_at: row.hostedDisabledAt === null ? null : new Date(row.hostedDisabledAt).toISOString(), hosted_disabled_reason: row.hostedDisabledReason, created_at: new Date(row.createdAt).toISOString() }
}

/** Gateway admins only: a team-admin administers the one team it belongs to. */
export async function createTeam(db: GatewayDb, actor: Actor, name: unknown): Promise<OpResult<PublicTeam>> {
  if (!isGatewayAdmin(actor)) return fail(403, 'admin_required', 'Only gateway admins can create teams')
  if (typeof name !== 'string' || !TEAM_NAME.test(name)) return fail(400, 'invalid_team_name', 'Team name must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit')
  if (name.startsWith('team_')) return fail(400, 'invalid_team_name', 'Team names may not start with "team_" (reserved for ids)')
  if (await findTeam(db, name)) return fail(409, 'team_exists', `Team '${name}' already exists`)
  const team = await insertTeam(db, name)
  await audit(db, actor, { teamId: team.id, action: 'team.create', target: team.id, details: { name } })
  return ok(publicTeam(team))
}

/** Every team for gateway admins; a team-admin's own team only. */
export async function allTeams(db: GatewayDb, actor: Actor): Promise<PublicTeam[]> {
  const teams = await listTeams(db)
  const own = administeredTeamId(actor)
  return (isGatewayAdmin(actor) ? teams : teams.filter((t) => t.id === own)).map(publicTeam)
}

export async function setTeamRouting(db: GatewayDb, actor: Actor, team: string, patch: { backend_mode?: unknown; allow_backend_override?: unknown; on_hosted_budget_exhausted?: unknown; default_deadline_ms?: unknown; hosted_disabled?: unknown }): Promise<OpResult<PublicTeam>> {
  const row = await teamInScope(db, actor, team)
  if (!row) return { ok: false, ...teamNotFound(team) }
  const update: { backendMode?: BackendMode | null; allowBackendOverride?: boolean; onHostedBudgetExhausted?: HostedBudgetExhausted; defaultDeadlineMs?: number | null; hostedDisabledAt?: number | null; hostedDisabledReason?: string | null } = {}
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
  if (patch.on_hosted_budget_exhausted !== undefined) {
    const onExhausted = parseHostedBudgetExhausted(patch.on_hosted_budget_exhausted)
    if (!onExhausted.ok) return onExhausted
    update.onHostedBudgetExhausted = onExhausted.value
  }
  if (patch.default_deadline_ms !== undefined) {
    const ms = patch.default_deadline_ms
    if (ms !== null && !(typeof ms === 'number' && Number.isInteger(ms) && ms > 0)) return fail(400, 'invalid_request_error', 'default_deadline_ms must be a positive integer (milliseconds) or null')
    update.defaultDeadlineMs = ms
  }
  if (patch.hosted_disabled !== undefined) {
    if (typeof patch.hosted_disabled !== 'boolean') return fail(400, 'invalid_request_error', 'hosted_disabled must be a boolean (false turns hosted back on after a DeepSeek 402)')
    // Turning it off by hand keeps an earlier 402's time and reason.
    if (!patch.hosted_disabled) Object.assign(update, { hostedDisabledAt: null, hostedDisabledReason: null })
    else if (row.hostedDisabledAt === null) Object.assign(update, { hostedDisabledAt: Date.now(), hostedDisabledReason: 'admin' })
  }
  if (Object.keys(update).length === 0 && patch.hosted_disabled === undefined) return fail(400, 'invalid_request_error', 'Nothing to change: send backend_mode, allow_backend_override, on_hosted_budget_exhausted, default_deadline_ms and/or hosted_disabled')
  if (Object.keys(update).length === 0) return ok(publicTeam(row))
  const updated = await updateTeamRouting(db, row.id, update)
  if (!updated) return { ok: false, ...teamNotFound(team) }
  const hostedChange = update.hostedDisabledAt === undefined ? undefined : { hosted_disabled: update.hostedDisabledAt !== null, ...(row.hostedDisabledAt !== null ? { was_disabled_at: row.hostedDisabledAt, was_reason: row.hostedDisabledReason } : {}) }
  const details = { backend_mode: update.backendMode, allow_backend_override: update.allowBackendOverride, on_hosted_budget_exhausted: update.onHostedBudgetExhausted, default_deadline_ms: update.defaultDeadlineMs, ...hostedChange }
  await audit(db, actor, { teamId: row.id, action: 'team.update', target: row.id, details: Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) })
  return ok(publicTeam(updated))
}
