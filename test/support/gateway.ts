import { inject } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { startGateway, type RunningGateway } from '../../src/node.js'
import { usage } from '../../src/db/schema.js'
import { silentLogger, type Logger } from '../../src/log.js'

export const ADMIN_KEY = 'mgw_test_admin_key_0123456789abcdef'

/** A unique name per call, so tests sharing one sqld never see each other's teams. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`
}

/** Starts a Node gateway on a free port against the shared sqld (default) or a fresh `file:` database. */
export async function startTestGateway(opts: { env?: Record<string, string | undefined>; database?: 'sqld' | 'file'; log?: Logger } = {}): Promise<RunningGateway> {
  const databaseUrl = opts.database === 'file' ? `file:${join(mkdtempSync(join(tmpdir(), 'moe-gw-')), 'gateway.db')}` : inject('sqldUrl')
  return startGateway({
    env: { DATABASE_URL: databaseUrl, ADMIN_KEY, ...opts.env },
    port: 0,
    log: opts.log ?? silentLogger,
  })
}

export async function adminCall(gw: RunningGateway, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

/** Creates a team (optionally with a backend mode) and a member key; returns the key. */
export async function teamWithKey(gw: RunningGateway, opts: { mode?: string; allowOverride?: boolean } = {}): Promise<{ team: string; teamId: string; key: string; keyId: string }> {
  const team = uniqueName('team')
  const created = await adminCall(gw, 'POST', '/admin/teams', { name: team })
  if (created.status !== 201) throw new Error(`team create failed: ${created.status} ${await created.text()}`)
  const { id: teamId } = (await created.json()) as { id: string }
  if (opts.mode !== undefined || opts.allowOverride !== undefined) {
    const patched = await adminCall(gw, 'PATCH', `/admin/teams/${team}`, { backend_mode: opts.mode, allow_backend_override: opts.allowOverride })
    if (!patched.ok) throw new Error(`team patch failed: ${await patched.text()}`)
  }
  const res = await adminCall(gw, 'POST', '/admin/keys', { team, name: 'test-key' })
  const { key, id } = (await res.json()) as { key: string; id: string }
  return { team, teamId, key, keyId: id }
}

/** The team's usage rows, after flushing the writer. */
export async function usageRowsOf(gw: RunningGateway, teamId: string) {
  await gw.writer.flush()
  return gw.db.select().from(usage).where(eq(usage.teamId, teamId)).orderBy(usage.createdAt).all()
}
