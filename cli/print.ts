import type { PublicAuditEntry, PublicKey, PublicTeam } from '../src/admin/operations.js'

function table(rows: string[][], out: (line: string) => void): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  for (const row of rows) out(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
}

export function printTeams(teams: PublicTeam[], out: (line: string) => void): void {
  if (teams.length === 0) return out('no teams')
  table([['NAME', 'ID', 'BACKEND', 'OVERRIDE'], ...teams.map((t) => [t.name, t.id, t.backend_mode ?? 'default', t.allow_backend_override ? 'yes' : 'no'])], out)
}

/** Keys are listed by prefix: the full key is never stored, so it cannot be shown again. */
export function printKeys(keys: PublicKey[], out: (line: string) => void): void {
  if (keys.length === 0) return out('no keys')
  const state = (k: PublicKey) => (k.revoked_at ? 'revoked' : k.expires_at && Date.parse(k.expires_at) <= Date.now() ? 'expired' : k.replaced_by ? `rotated, until ${k.expires_at}` : 'active')
  const limits = (k: PublicKey) => [k.allowed_models && `models ${k.allowed_models.join(',')}`, k.allowed_backends && `backends ${k.allowed_backends.join(',')}`, k.backend_mode && `mode ${k.backend_mode}`].filter(Boolean).join('; ') || '-'
  table([['ID', 'PREFIX', 'NAME', 'TEAM', 'ROLE', 'STATE', 'LIMITS', 'LAST USED', 'CREATED'], ...keys.map((k) => [k.id, `${k.prefix}…`, k.name, k.team ?? '-', k.role, state(k), limits(k), k.last_used_at ?? 'never', k.created_at])], out)
}

export function printAudit(entries: PublicAuditEntry[], out: (line: string) => void): void {
  if (entries.length === 0) return out('no audit entries')
  table([['AT', 'ACTOR', 'ROLE', 'ACTION', 'TARGET', 'TEAM', 'DETAILS'], ...entries.map((e) => [e.at, e.actor_key_id, e.actor_role, e.action, e.target ?? '-', e.team_id ?? '-', e.details ? JSON.stringify(e.details) : ''])], out)
}
