import { administeredTeamId, isGatewayAdmin, type Actor } from '../auth/roles.js'
import { teamInScope, teamNotFound } from '../auth/scope.js'
import { auditCursorAt, listAudit, recordAudit, type AuditEntry } from '../db/audit.js'
import type { GatewayDb } from '../db/client.js'
import type { AuditRow } from '../db/schema.js'
import { fail, iso, ok, type OpResult } from './op-result.js'

export interface PublicAuditEntry {
  id: string
  at: string
  actor_key_id: string
  actor_role: string
  team_id: string | null
  action: string
  target: string | null
  details: Record<string, unknown> | null
}

export interface AuditPage {
  object: 'list'
  data: PublicAuditEntry[]
  /** Pass as `before` for the next (older) page; null on the last page. */
  next_before: string | null
}

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 500

/** Records an admin action by `actor`; awaited by every operation that changes something. */
export function audit(db: GatewayDb, actor: Actor, entry: Omit<AuditEntry, 'actorKeyId' | 'actorRole'>): Promise<AuditRow> {
  return recordAudit(db, { ...entry, actorKeyId: actor.id, actorRole: actor.role })
}

function publicEntry(row: AuditRow): PublicAuditEntry {
  return { id: row.id, at: iso(row.at) ?? '', actor_key_id: row.actorKeyId, actor_role: row.actorRole, team_id: row.teamId, action: row.action, target: row.target, details: row.details ?? null }
}

/**
 * Audit entries, newest first. Gateway admins see everything (or one team with `team`);
 * a team-admin sees its own team's entries only, and another team is a 404.
 */
export async function auditEntries(db: GatewayDb, actor: Actor, query: { team?: string; limit?: string; before?: string }): Promise<OpResult<AuditPage>> {
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return fail(400, 'invalid_limit', `limit must be an integer from 1 to ${MAX_LIMIT}`)
  let beforeId: string | undefined
  if (query.before !== undefined) {
    if (query.before.startsWith('aud_')) beforeId = query.before
    else {
      const ms = Date.parse(query.before)
      if (!Number.isFinite(ms)) return fail(400, 'invalid_before', 'before must be an ISO 8601 date or an audit entry id (next_before of the previous page)')
      beforeId = auditCursorAt(ms)
    }
  }
  let teamId: string | undefined
  if (query.team !== undefined) {
    const team = await teamInScope(db, actor, query.team)
    if (!team) return { ok: false, ...teamNotFound(query.team) }
    teamId = team.id
  } else if (!isGatewayAdmin(actor)) {
    teamId = administeredTeamId(actor)
    if (teamId === undefined) return fail(403, 'admin_required', 'Reading the audit log needs an admin or team-admin key')
  }
  const rows = await listAudit(db, { teamId, limit, beforeId })
  const last = rows[rows.length - 1]
  return ok({ object: 'list', data: rows.map(publicEntry), next_before: rows.length === limit && last ? last.id : null })
}
