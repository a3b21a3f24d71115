/** Helpers for tests running inside workerd: requests go to the Worker's default export. */
import { createClient } from '@libsql/client/web'
import { env, exports } from 'cloudflare:workers'
import { eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/libsql/web'
import * as schema from '../../src/db/schema.js'
import { WORKER_ADMIN_KEY } from './constants.js'

export function workerFetch(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`https://gateway.test${path}`, init))
}

export function jsonRequest(key: string, method: string, body?: unknown): RequestInit {
  return {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`
}

/** Creates a team with a backend mode and a member key through the admin API. */
export async function teamWithKey(mode: string): Promise<{ teamId: string; key: string }> {
  const team = uniqueName('wteam')
  const created = await workerFetch('/admin/teams', jsonRequest(WORKER_ADMIN_KEY, 'POST', { name: team }))
  if (created.status !== 201) throw new Error(`team create: ${created.status} ${await created.text()}`)
  const { id: teamId } = await created.json<{ id: string }>()
  const patched = await workerFetch(`/admin/teams/${team}`, jsonRequest(WORKER_ADMIN_KEY, 'PATCH', { backend_mode: mode }))
  if (!patched.ok) throw new Error(`team patch: ${patched.status} ${await patched.text()}`)
  const keyRes = await workerFetch('/admin/keys', jsonRequest(WORKER_ADMIN_KEY, 'POST', { team, name: 'worker-test' }))
  if (keyRes.status !== 201) throw new Error(`key create: ${keyRes.status} ${await keyRes.text()}`)
  const { key } = await keyRes.json<{ key: string }>()
  return { teamId, key }
}

// The test's own view of sqld, over the same Web client the Worker uses.
export const db = drizzle(createClient({ url: env.DATABASE_URL ?? '' }), { schema })

/** Polls sqld until the usage row `id` (the x-request-id) is there: it is written in waitUntil, after the response. */
export async function usageRow(id: string, timeoutMs = 10_000): Promise<schema.UsageRow> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const row = await db.select().from(schema.usage).where(eq(schema.usage.id, id)).get()
    if (row) return row
    if (Date.now() > deadline) throw new Error(`usage row ${id} did not land in sqld within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
