import { and, desc, eq, lt, type SQL } from 'drizzle-orm'
import type { GatewayDb } from './client.js'
import { auditLog, type AuditRow } from './schema.js'

export interface AuditEntry {
  /** Key id that acted ('admin_env' for ADMIN_KEY, 'cli' for the local CLI). */
  actorKeyId: string
  actorRole: string
  /** The team the action touched; null for gateway-wide actions (admin keys). */
  teamId: string | null
  /** `<resource>.<verb>`, e.g. 'team.create', 'key.rotate', 'budget.set'. */
  action: string
  target: string | null
  /** What changed. Never a key, a hash or prompt text. */
  details?: Record<string, unknown>
  at?: number
}

const MS_DIGITS = 15

let lastIdMs = -1
let sameMsCount = 0

/**
 * Ids sort like time (fixed-width ms, then a per-process sequence, then randomness), so
 * `before=<id>` pages exactly and one process's entries keep their order within a millisecond.
 */
function auditId(atMs: number): string {
  sameMsCount = atMs === lastIdMs ? sameMsCount + 1 : 0
  lastIdMs = atMs
  return `aud_${String(atMs).padStart(MS_DIGITS, '0')}_${sameMsCount.toString(36).padStart(4, '0')}${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`
}

/** The smallest id an entry at `atMs` can have: entries strictly before it sort below. */
export function auditCursorAt(atMs: number): string {
  return `aud_${String(atMs).padStart(MS_DIGITS, '0')}`
}

/**
 * Writes one audit entry. Await it inside the request: admin actions are rare and their trail
 * must not be lost to a response that has already gone out.
 * @example await recordAudit(db, { actorKeyId: key.id, actorRole: key.role, teamId, action: 'budget.set', target: budgetId, details: { limit_usd: '10' } })
 */
export async function recordAudit(db: GatewayDb, entry: AuditEntry): Promise<AuditRow> {
  const at = entry.at ?? Date.now()
  const [row] = await db
    .insert(auditLog)
    .values({ id: auditId(at), at, actorKeyId: entry.actorKeyId, actorRole: entry.actorRole, teamId: entry.teamId, action: entry.action, target: entry.target, details: entry.details ?? null })
    .returning()
  if (!row) throw new Error('insert returned no audit row')
  return row
}

/** Newest first; `teamId` narrows to one team, `beforeId` continues a previous page. */
export async function listAudit(db: GatewayDb, opts: { teamId?: string; limit: number; beforeId?: string }): Promise<AuditRow[]> {
  const conditions: SQL[] = []
  if (opts.teamId !== undefined) conditions.push(eq(auditLog.teamId, opts.teamId))
  if (opts.beforeId !== undefined) conditions.push(lt(auditLog.id, opts.beforeId))
  return db
    .select()
    .from(auditLog)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(opts.limit)
    .all()
}
