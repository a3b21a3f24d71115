import { allTeams, createKey, createTeam, keysOf, revoke, setTeamRouting, type OpResult, type PublicKey, type PublicTeam } from '../src/admin/operations.js'
import type { GatewayDb } from '../src/db/client.js'

/** The admin operations the CLI needs, either on the database directly or through a running gateway. */
export interface AdminClient {
  createTeam(name: string): Promise<OpResult<PublicTeam>>
  listTeams(): Promise<OpResult<PublicTeam[]>>
  setTeam(team: string, patch: { backend_mode?: string | null; allow_backend_override?: boolean }): Promise<OpResult<PublicTeam>>
  createKey(input: { team?: string; name: string; role?: string; expires_at?: string }): Promise<OpResult<PublicKey & { key: string }>>
  listKeys(team?: string): Promise<OpResult<PublicKey[]>>
  revokeKey(id: string): Promise<OpResult<unknown>>
}

export function localAdminClient(db: GatewayDb): AdminClient {
  return {
    createTeam: (name) => createTeam(db, name),
    listTeams: async () => ({ ok: true, value: await allTeams(db) }),
    setTeam: (team, patch) => setTeamRouting(db, team, patch),
    createKey: (input) => createKey(db, input),
    listKeys: (team) => keysOf(db, team),
    revokeKey: (id) => revoke(db, id),
  }
}

/** Talks to `/admin` of a running gateway; answers carry the gateway's own error codes. */
export function httpAdminClient(baseUrl: string, adminKey: string): AdminClient {
  async function call<T>(method: string, path: string, body?: unknown, pick?: (json: unknown) => T): Promise<OpResult<T>> {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const json: unknown = await res.json().catch(() => ({}))
    if (res.ok) return { ok: true, value: pick ? pick(json) : (json as T) }
    const error = (json as { error?: { code?: string; message?: string } }).error
    return { ok: false, status: res.status as 400, code: error?.code ?? `http_${res.status}`, message: error?.message ?? `HTTP ${res.status}` }
  }
  const data = <T>(json: unknown) => (json as { data: T }).data
  return {
    createTeam: (name) => call('POST', '/admin/teams', { name }),
    listTeams: () => call('GET', '/admin/teams', undefined, data<PublicTeam[]>),
    setTeam: (team, patch) => call('PATCH', `/admin/teams/${encodeURIComponent(team)}`, patch),
    createKey: (input) => call('POST', '/admin/keys', input),
    listKeys: (team) => call('GET', `/admin/keys${team ? `?team=${encodeURIComponent(team)}` : ''}`, undefined, data<PublicKey[]>),
    revokeKey: (id) => call('DELETE', `/admin/keys/${encodeURIComponent(id)}`),
  }
}
