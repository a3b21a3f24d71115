import type { PublicKey, PublicTeam } from '../src/admin/operations.js'

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
  const state = (k: PublicKey) => (k.revoked_at ? 'revoked' : k.expires_at && Date.parse(k.expires_at) <= Date.now() ? 'expired' : 'active')
  table([['ID', 'PREFIX', 'NAME', 'TEAM', 'ROLE', 'STATE', 'CREATED'], ...keys.map((k) => [k.id, `${k.prefix}…`, k.name, k.team ?? '-', k.role, state(k), k.created_at])], out)
}
