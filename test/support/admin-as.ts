import type { RunningGateway } from '../../src/node.js'
import { ADMIN_KEY, uniqueName } from './gateway.js'

/** A request to the gateway as `key` (any role). */
export function callAs(gw: RunningGateway, key: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

export interface CreatedTestKey {
  id: string
  key: string
  prefix: string
}

/** Creates a key (as the operator unless `as` is given); throws unless 201. */
export async function createTestKey(gw: RunningGateway, input: Record<string, unknown>, as = ADMIN_KEY): Promise<CreatedTestKey> {
  const res = await callAs(gw, as, 'POST', '/admin/keys', { name: 'test-key', ...input })
  if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${await res.text()}`)
  return (await res.json()) as CreatedTestKey
}

export async function createTestTeam(gw: RunningGateway, prefix = 'team', patch?: Record<string, unknown>): Promise<{ id: string; name: string }> {
  const name = uniqueName(prefix)
  const res = await callAs(gw, ADMIN_KEY, 'POST', '/admin/teams', { name })
  if (res.status !== 201) throw new Error(`team create failed: ${res.status} ${await res.text()}`)
  const team = (await res.json()) as { id: string; name: string }
  if (patch) {
    const patched = await callAs(gw, ADMIN_KEY, 'PATCH', `/admin/teams/${name}`, patch)
    if (!patched.ok) throw new Error(`team patch failed: ${await patched.text()}`)
  }
  return team
}

/** A team with a team-admin key and a member key. */
export async function teamWithRoles(gw: RunningGateway, prefix = 'team', patch?: Record<string, unknown>) {
  const team = await createTestTeam(gw, prefix, patch)
  const teamAdmin = await createTestKey(gw, { team: team.name, name: 'lead', role: 'team-admin' })
  const member = await createTestKey(gw, { team: team.name, name: 'dev', role: 'member' })
  return { team, teamAdmin, member }
}

export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } }
  return body.error?.code
}
