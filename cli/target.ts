/**
 * Where a CLI command acts: the database itself (DATABASE_URL / --database, as the 'cli' actor)
 * or, with --url, a running gateway's admin API as the given key. Every command group uses this.
 */
import type { OpResult } from '../src/admin/op-result.js'
import type { GatewayDb } from '../src/db/client.js'
import { openNodeDb } from '../src/node/open-db.js'
import { stringFlag, type ParsedArgs } from './args.js'

export interface ClientFactories<C> {
  local(db: GatewayDb): C
  http(baseUrl: string, adminKey: string): C
}

export async function withTarget<C, T>(args: ParsedArgs, env: NodeJS.ProcessEnv, make: ClientFactories<C>, run: (client: C) => Promise<T>): Promise<T> {
  const url = stringFlag(args, 'url')
  if (url) {
    const adminKey = stringFlag(args, 'admin-key') ?? env.ADMIN_KEY
    if (!adminKey) throw new Error('--url needs an admin key: --admin-key <key> or ADMIN_KEY')
    return run(make.http(url, adminKey))
  }
  const { db, client } = await openNodeDb(stringFlag(args, 'database') ?? env.DATABASE_URL ?? 'file:./data/gateway.db', { authToken: env.DATABASE_AUTH_TOKEN })
  try {
    return await run(make.local(db))
  } finally {
    client.close()
  }
}

/** One admin API call; failures come back as the gateway's own error code and message. */
export async function adminApiCall<T>(baseUrl: string, adminKey: string, method: string, path: string, body?: unknown): Promise<OpResult<T>> {
  const res = await fetch(`${baseUrl.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const json: unknown = await res.json().catch(() => ({}))
  if (res.ok) return { ok: true, value: json as T }
  const error = (json as { error?: { code?: string; message?: string } }).error
  return { ok: false, status: res.status as 400, code: error?.code ?? `http_${res.status}`, message: error?.message ?? `HTTP ${res.status}` }
}

/** `?team=…&key=…` from the set fields of a selector, or ''. */
export function queryString(fields: Record<string, string | undefined>): string {
  const params = new URLSearchParams(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined))
  return params.size > 0 ? `?${params}` : ''
}

export type Out = (line: string) => void

/** Prints a result (JSON with --json, else the human form) and returns the exit code. */
export function reportResult<T>(result: OpResult<T>, io: { out: Out; err: Out; json: boolean }, human: (value: T) => void): number {
  if (!result.ok) {
    io.err(`error: ${result.message} (${result.code})`)
    return 1
  }
  if (io.json) io.out(JSON.stringify(result.value, null, 2))
  else human(result.value)
  return 0
}
