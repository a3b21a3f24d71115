import { CLI_ACTOR } from '../src/auth/roles.js'
import {
  allTeams,
  auditEntries,
  createKey,
  createTeam,
  keysOf,
  revoke,
  rotateKey,
  setTeamRouting,
  updateKeySettings,
  type AuditPage,
  type OpResult,
  type PublicKey,
  type PublicTeam,
  type RotatedKey,
} from '../src/admin/operations.js'
import type { GatewayDb } from '../src/db/client.js'
import { adminApiCall, queryString } from './target.js'

export interface KeyCreateInput {
  team?: string
  name: string
  role?: string
  expires_at?: string
  allowed_models?: string[] | null
  allowed_backends?: string[] | null
  backend_mode?: string | null
}

export interface KeyUpdateInput {
  name?: string
  expires_at?: string | null
  allowed_models?: string[] | null
  allowed_backends?: string[] | null
  backend_mode?: string | null
}

/** The admin operations the CLI needs, either on the database directly or through a running gateway. */
export interface AdminClient {
  createTeam(name: string): Promise<OpResult<PublicTeam>>
  listTeams(): Promise<OpResult<PublicTeam[]>>
  setTeam(team: string, patch: { backend_mode?: string | null; allow_backend_override?: boolean; default_deadline_ms?: number | null; hosted_disabled?: boolean }): Promise<OpResult<PublicTeam>>
  createKey(input: KeyCreateInput): Promise<OpResult<PublicKey & { key: string }>>
  listKeys(team?: string): Promise<OpResult<PublicKey[]>>
  revokeKey(id: string): Promise<OpResult<unknown>>
  rotateKey(id: string, input: { grace_seconds?: number; expires_at?: string }): Promise<OpResult<RotatedKey>>
  updateKey(id: string, input: KeyUpdateInput): Promise<OpResult<PublicKey>>
  listAudit(query: { team?: string; limit?: string; before?: string }): Promise<OpResult<AuditPage>>
}

/** Works on the database itself, as a gateway admin; the audit log records the actor as 'cli'. */
export function localAdminClient(db: GatewayDb): AdminClient {
  return {
    createTeam: (name) => createTeam(db, CLI_ACTOR, name),
    listTeams: async () => ({ ok: true, value: await allTeams(db, CLI_ACTOR) }),
    setTeam: (team, patch) => setTeamRouting(db, CLI_ACTOR, team, patch),
    createKey: (input) => createKey(db, CLI_ACTOR, input),
    listKeys: (team) => keysOf(db, CLI_ACTOR, team),
    revokeKey: (id) => revoke(db, CLI_ACTOR, id),
    rotateKey: (id, input) => rotateKey(db, CLI_ACTOR, id, input),
    updateKey: (id, input) => updateKeySettings(db, CLI_ACTOR, id, input),
    listAudit: (query) => auditEntries(db, CLI_ACTOR, query),
  }
}

/** Talks to `/admin` of a running gateway as the given key (admin or team-admin); answers carry the gateway's own error codes. */
export function httpAdminClient(baseUrl: string, adminKey: string): AdminClient {
  async function call<T>(method: string, path: string, body?: unknown, pick?: (json: unknown) => T): Promise<OpResult<T>> {
    const result = await adminApiCall<T>(baseUrl, adminKey, method, path, body)
    return result.ok && pick ? { ok: true, value: pick(result.value) } : result
  }
  const data = <T>(json: unknown) => (json as { data: T }).data
  const key = (id: string) => `/admin/keys/${encodeURIComponent(id)}`
  return {
    createTeam: (name) => call('POST', '/admin/teams', { name }),
    listTeams: () => call('GET', '/admin/teams', undefined, data<PublicTeam[]>),
    setTeam: (team, patch) => call('PATCH', `/admin/teams/${encodeURIComponent(team)}`, patch),
    createKey: (input) => call('POST', '/admin/keys', input),
    listKeys: (team) => call('GET', `/admin/keys${queryString({ team })}`, undefined, data<PublicKey[]>),
    revokeKey: (id) => call('DELETE', key(id)),
    rotateKey: (id, input) => call('POST', `${key(id)}/rotate`, input),
    updateKey: (id, input) => call('PATCH', key(id), input),
    listAudit: (q) => call('GET', `/admin/audit${queryString(q)}`),
  }
}
