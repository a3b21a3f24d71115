/**
 * `moe-gateway budgets set|list|delete`: USD budgets on the local database or, with `--url`,
 * through a running gateway's `/admin/budgets`.
 */
import { budgetsOf, removeBudget, setBudget, type PublicBudget } from '../src/admin/budgets.js'
import type { OpResult } from '../src/admin/op-result.js'
import { CLI_ACTOR } from '../src/auth/roles.js'
import type { GatewayDb } from '../src/db/client.js'
import { stringFlag, type ParsedArgs } from './args.js'
import { adminApiCall, queryString, reportResult, withTarget, type Out } from './target.js'

export const BUDGETS_USAGE = `  budgets set --team <team> | --key <key id> --period day|week|month --limit <USD> [--soft <USD>] [--tz <IANA zone>]
                                                 e.g. --limit 50 --soft 40 --tz Europe/Berlin (default UTC; weeks start Monday)
  budgets list [--team <team> | --key <key id>]  with this period's spend, holds and remaining
  budgets delete <budget id>`

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
  const call = <T>(method: string, path: string, body?: unknown) => adminApiCall<T>(baseUrl, adminKey, method, `/admin/budgets${path}`, body)
  return {
    set: (body) => call('PUT', '', body),
    list: async (sel) => {
      const result = await call<{ data: PublicBudget[] }>('GET', queryString(sel))
      return result.ok ? { ok: true, value: result.value.data } : result
    },
    remove: (id) => call('DELETE', `/${encodeURIComponent(id)}`),
  }
}

const target = { local: localClient, http: httpClient }

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
  const report = <T>(result: OpResult<T>, human: (value: T) => void): number => reportResult(result, { ...io, json }, human)
  switch (command) {
    case 'set': {
      const body = { ...sel, period: stringFlag(args, 'period'), limit_usd: stringFlag(args, 'limit'), soft_limit_usd: stringFlag(args, 'soft'), time_zone: stringFlag(args, 'tz') }
      return withTarget(args, io.env, target, async (c) =>
        report(await c.set(body), (b) => io.out(`${scopeName(b)}: $${b.limit_usd} per ${b.period} (${b.time_zone})${b.soft_limit_usd ? `, warning from $${b.soft_limit_usd}` : ''}; budget ${b.id}`)),
      )
    }
    case 'list':
      return withTarget(args, io.env, target, async (c) => report(await c.list(sel), (budgets) => printBudgets(budgets, io.out)))
    case 'delete':
      if (!rest[0]) return undefined
      return withTarget(args, io.env, target, async (c) => report(await c.remove(rest[0]!), (d) => io.out(`deleted budget ${d.id}`)))
    default:
      return undefined
  }
}
