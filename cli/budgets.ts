/**
 * `moe-gateway budgets set|list|delete`: USD budgets on the local database or, with `--url`,
 * through a running gateway's `/admin/budgets`.
 */
import { budgetsOf, removeBudget, setBudget, type PublicBudget } from '../src/admin/budgets.js'
import type { OpResult } from '../src/admin/op-result.js'
import { CLI_ACTOR } from '../src/auth/roles.js'
import type { GatewayDb } from '../src/db/client.js'
import { openNodeDb } from '../src/db/open-node.js'
import { stringFlag, type ParsedArgs } from './args.js'

export const BUDGETS_USAGE = `  budgets set --team <team> | --key <key id> --period day|week|month --limit <USD> [--soft <USD>] [--tz <IANA zone>]
                                                 e.g. --limit 50 --soft 40 --tz Europe/Berlin (default UTC; weeks start Monday)
  budgets list [--team <team> | --key <key id>]  with this period's spend, holds and remaining
  budgets delete <budget id>`

type Out = (line: string) => void
type Selector = { team?: string; key?: string }
type Deleted = { id: string; deleted: true }

interface BudgetClient {
  set(body: Record<string, unknown>): Promise<OpResult<PublicBudget>>
  list(sel: Selector): Promise<OpResult<PublicBudget[]>>
  remove(id: string): Promise<OpResult<Deleted>>
}

function localClient(db: GatewayDb): BudgetClient {
  return {
    set: (body) => setBudget(db, CLI_ACTOR, body),
    list: (sel) => budgetsOf(db, CLI_ACTOR, sel),
    remove: (id) => removeBudget(db, CLI_ACTOR, id),
  }
}

function httpClient(baseUrl: string, adminKey: string): BudgetClient {
  async function call<T>(method: string, path: string, body?: unknown): Promise<OpResult<T>> {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/admin/budgets${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const json: unknown = await res.json().catch(() => ({}))
    if (res.ok) return { ok: true, value: json as T }
    const error = (json as { error?: { code?: string; message?: string } }).error
    return { ok: false, status: res.status as 400, code: error?.code ?? `http_${res.status}`, message: error?.message ?? `HTTP ${res.status}` }
  }
  return {
    set: (body) => call('PUT', '', body),
    list: async (sel) => {
      const params = new URLSearchParams(Object.entries(sel).filter((e): e is [string, string] => e[1] !== undefined))
      const result = await call<{ data: PublicBudget[] }>('GET', params.size > 0 ? `?${params}` : '')
      return result.ok ? { ok: true, value: result.value.data } : result
    },
    remove: (id) => call('DELETE', `/${encodeURIComponent(id)}`),
  }
}

async function withClient(args: ParsedArgs, env: NodeJS.ProcessEnv, run: (client: BudgetClient) => Promise<number>): Promise<number> {
  const url = stringFlag(args, 'url')
  if (url) {
    const adminKey = stringFlag(args, 'admin-key') ?? env.ADMIN_KEY
    if (!adminKey) throw new Error('--url needs an admin key: --admin-key <key> or ADMIN_KEY')
    return run(httpClient(url, adminKey))
  }
  const { db, client } = await openNodeDb(stringFlag(args, 'database') ?? env.DATABASE_URL ?? 'file:./data/gateway.db', { authToken: env.DATABASE_AUTH_TOKEN })
  try {
    return await run(localClient(db))
  } finally {
    client.close()
  }
}

const scopeName = (b: PublicBudget) => `${b.scope} ${b.scope_id}`

function printBudgets(budgets: PublicBudget[], out: Out): void {
  if (budgets.length === 0) return out('no budgets')
  const rows = [
    ['ID', 'SCOPE', 'OF', 'PERIOD', 'TZ', 'LIMIT', 'SOFT', 'SPENT', 'HELD', 'REMAINING', 'RESETS'],
    ...budgets.map((b) => [b.id, b.scope, b.scope_id, b.period, b.time_zone, `$${b.limit_usd}`, b.soft_limit_usd === null ? '-' : `$${b.soft_limit_usd}`, `$${b.spent_usd}`, `$${b.held_usd}`, `$${b.remaining_usd}`, b.period_end]),
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const row of rows) out(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
}

/** Runs `budgets <command>`; undefined when the command is not one of them (the caller prints usage). */
export async function runBudgetsCommand(command: string | undefined, rest: readonly string[], args: ParsedArgs, io: { out: Out; err: Out; env: NodeJS.ProcessEnv }): Promise<number | undefined> {
  const json = args.flags.get('json') === true
  const sel: Selector = { team: stringFlag(args, 'team'), key: stringFlag(args, 'key') }
  const report = <T>(result: OpResult<T>, human: (value: T) => void): number => {
    if (!result.ok) {
      io.err(`error: ${result.message} (${result.code})`)
      return 1
    }
    if (json) io.out(JSON.stringify(result.value, null, 2))
    else human(result.value)
    return 0
  }
  switch (command) {
    case 'set': {
      const body = { ...sel, period: stringFlag(args, 'period'), limit_usd: stringFlag(args, 'limit'), soft_limit_usd: stringFlag(args, 'soft'), time_zone: stringFlag(args, 'tz') }
      return withClient(args, io.env, async (c) =>
        report(await c.set(body), (b) => io.out(`${scopeName(b)}: $${b.limit_usd} per ${b.period} (${b.time_zone})${b.soft_limit_usd ? `, warning from $${b.soft_limit_usd}` : ''}; budget ${b.id}`)),
      )
    }
    case 'list':
      return withClient(args, io.env, async (c) => report(await c.list(sel), (budgets) => printBudgets(budgets, io.out)))
    case 'delete':
      if (!rest[0]) return undefined
      return withClient(args, io.env, async (c) => report(await c.remove(rest[0]!), (d) => io.out(`deleted budget ${d.id}`)))
    default:
      return undefined
  }
}
