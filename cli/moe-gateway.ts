/**
 * `npx moe-gateway <command>`: admin tasks on the local database (DATABASE_URL, default
 * file:./data/gateway.db) or, with `--url`, on a running gateway (admin key from
 * `--admin-key` or ADMIN_KEY).
 */
import type { OpResult } from '../src/admin/operations.js'
import { httpAdminClient, localAdminClient, type AdminClient } from './admin-client.js'
import { reportResult, withTarget, type Out } from './target.js'
import { parseArgs, stringFlag, type ParsedArgs } from './args.js'
import { graceFlag, keyCreateInput, keyUpdateInput } from './key-flags.js'
import { printAudit, printKeys, printTeams } from './print.js'
import { RATE_LIMITS_USAGE, runRateLimitsCommand } from './rate-limits.js'
import { BUDGETS_USAGE, runBudgetsCommand } from './budgets.js'

const USAGE = `Usage: moe-gateway <command> [options]

  teams create <name>
  teams list
  teams set-backend <team> <hosted|local|local-first|hosted-first|auto|default> [--allow-override | --no-allow-override]
  teams set-deadline <team> <ms|default>   auto mode's deadline for requests without x-moe-deadline-ms
  teams enable-hosted <team>               turn hosted back on after a DeepSeek 402 turned it off
  keys create --team <team> --name <name> [--role member|team-admin] [--expires <ISO date>]
              [--models <a,b>] [--backends <local,hosted>] [--backend-mode <mode>]
  keys create --role admin --name <name>        a gateway-wide admin key
  keys list [--team <team>]
  keys update <key id> [--name <name>] [--expires <ISO date>|never] [--models <a,b>|any] [--backends <local,hosted>|any] [--backend-mode <mode>|team]
  keys rotate <key id> [--grace <seconds, default 3600>] [--expires <ISO date>]
                                                 a new key; the old one works until the grace period ends
  keys revoke <key id>
${RATE_LIMITS_USAGE}
${BUDGETS_USAGE}
  audit list [--team <team>] [--limit <n, default 50>] [--before <ISO date or entry id>]
  migrate                                        apply database migrations (also done at gateway start)

Options:
  --url <gateway url>     act through a running gateway's admin API instead of the database
  --admin-key <key>       admin or team-admin key for --url (default: ADMIN_KEY)
  --database <url>        database for local mode (default: DATABASE_URL or file:./data/gateway.db)
  --json                  print JSON
`


const adminTarget = { local: localAdminClient, http: httpAdminClient }

function withClient<T>(args: ParsedArgs, env: NodeJS.ProcessEnv, run: (client: AdminClient) => Promise<T>): Promise<T> {
  return withTarget(args, env, adminTarget, run)
}


export async function runCli(argv: readonly string[], io: { out: Out; err: Out; env: NodeJS.ProcessEnv }): Promise<number> {
  let args: ParsedArgs
  try {
    args = parseArgs(argv)
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n\n${USAGE}`)
    return 2
  }
  const [group, command, ...rest] = args.positionals
  const json = args.flags.get('json') === true
  const print = <T>(result: OpResult<T>, human: (value: T) => void) => reportResult(result, { ...io, json }, human)
  const route = `${group ?? ''} ${command ?? ''}`.trim()
  try {
    const limits = group === 'limits' ? await runRateLimitsCommand(command, args, io) : undefined
    if (limits !== undefined) return limits
    const budgets = group === 'budgets' ? await runBudgetsCommand(command, rest, args, io) : undefined
    if (budgets !== undefined) return budgets
    switch (route) {
      case 'teams create':
        if (!rest[0]) break
        return await withClient(args, io.env, async (c) => print(await c.createTeam(rest[0]!), (t) => io.out(`created team ${t.name} (${t.id})`)))
      case 'teams list':
        return await withClient(args, io.env, async (c) => print(await c.listTeams(), (teams) => printTeams(teams, io.out)))
      case 'teams set-backend': {
        if (!rest[0] || !rest[1]) break
        const patch: { backend_mode: string | null; allow_backend_override?: boolean } = { backend_mode: rest[1] === 'default' ? null : rest[1] }
        const allow = args.flags.get('allow-override')
        if (typeof allow === 'boolean') patch.allow_backend_override = allow
        return await withClient(args, io.env, async (c) => print(await c.setTeam(rest[0]!, patch), (t) => io.out(`team ${t.name}: backend ${t.backend_mode ?? 'default'}, per-request override ${t.allow_backend_override ? 'allowed' : 'not allowed'}`)))
      }
      case 'teams set-deadline': {
        if (!rest[0] || !rest[1]) break
        const ms = rest[1] === 'default' ? null : Number(rest[1])
        if (ms !== null && !(Number.isInteger(ms) && ms > 0)) break
        return await withClient(args, io.env, async (c) => print(await c.setTeam(rest[0]!, { default_deadline_ms: ms }), (t) => io.out(`team ${t.name}: auto deadline ${t.default_deadline_ms === null ? 'gateway default' : `${t.default_deadline_ms} ms`}`)))
      }
      case 'teams enable-hosted':
        if (!rest[0]) break
        return await withClient(args, io.env, async (c) => print(await c.setTeam(rest[0]!, { hosted_disabled: false }), (t) => io.out(`team ${t.name}: hosted ${t.hosted_disabled_at === null ? 'on' : `off since ${t.hosted_disabled_at}`}`)))
      case 'keys create': {
        const input = keyCreateInput(args)
        return await withClient(args, io.env, async (c) =>
          print(await c.createKey(input), (k) => {
            io.out(`created key ${k.id} (${k.prefix}…) for ${k.team ?? 'the whole gateway'}, role ${k.role}`)
            io.out(`\n  ${k.key}\n\nThis is the only time the key is shown. Store it now.`)
          }),
        )
      }
      case 'keys list':
        return await withClient(args, io.env, async (c) => print(await c.listKeys(stringFlag(args, 'team')), (keys) => printKeys(keys, io.out)))
      case 'keys update':
        if (!rest[0]) break
        return await withClient(args, io.env, async (c) => print(await c.updateKey(rest[0]!, keyUpdateInput(args)), (k) => printKeys([k], io.out)))
      case 'keys rotate': {
        if (!rest[0]) break
        const input = { grace_seconds: graceFlag(args), expires_at: stringFlag(args, 'expires') }
        return await withClient(args, io.env, async (c) =>
          print(await c.rotateKey(rest[0]!, input), (k) => {
            io.out(`rotated ${k.replaces.id}: it keeps working until ${k.replaces.expires_at ?? 'revoked'}`)
            io.out(`new key ${k.id} (${k.prefix}…), role ${k.role}`)
            io.out(`\n  ${k.key}\n\nThis is the only time the key is shown. Store it now.`)
          }),
        )
      }
      case 'audit list': {
        const query = { team: stringFlag(args, 'team'), limit: stringFlag(args, 'limit'), before: stringFlag(args, 'before') }
        return await withClient(args, io.env, async (c) =>
          print(await c.listAudit(query), (page) => {
            printAudit(page.data, io.out)
            if (page.next_before) io.out(`(more: --before ${page.next_before})`)
          }),
        )
      }
      case 'keys revoke':
        if (!rest[0]) break
        return await withClient(args, io.env, async (c) => print(await c.revokeKey(rest[0]!), () => io.out(`revoked ${rest[0]}`)))
      case 'migrate':
        return await withClient(args, io.env, async () => {
          io.out('database is up to date')
          return 0
        })
    }
  } catch (e) {
    io.err(`error: ${(e as Error).message}`)
    return 1
  }
  io.err(USAGE)
  return args.flags.get('help') === true ? 0 : 2
}
