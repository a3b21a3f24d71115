/**
 * `moe-gateway limits set|list|clear`: rate limits on the local database or, with `--url`,
 * through a running gateway's `/admin/rate-limits`.
 */
import { clearRateLimit, rateLimitsOf, setRateLimit, type PublicRateLimit } from '../src/admin/rate-limits.js'
import type { OpResult } from '../src/admin/op-result.js'
import { CLI_ACTOR } from '../src/auth/roles.js'
import type { GatewayDb } from '../src/db/client.js'
import { stringFlag, type ParsedArgs } from './args.js'
import { adminApiCall, queryString, reportResult, withTarget, type Out } from './target.js'

export const RATE_LIMITS_USAGE = `  limits set --team <team> | --key <key id> [--rpm <n|none>] [--tpm <n|none>]
                                                 requests / tokens per minute; none clears one
  limits list [--team <team> | --key <key id>]
  limits clear --team <team> | --key <key id>`

type Selector = { team?: string; key?: string }

interface RateLimitClient {
  set(body: Record<string, unknown>): Promise<OpResult<PublicRateLimit>>
  list(sel: Selector): Promise<OpResult<PublicRateLimit[]>>
  clear(sel: Selector): Promise<OpResult<PublicRateLimit>>
}

function localClient(db: GatewayDb): RateLimitClient {
  return {
    set: (body) => setRateLimit(db, CLI_ACTOR, body),
    list: (sel) => rateLimitsOf(db, CLI_ACTOR, sel),
    clear: (sel) => clearRateLimit(db, CLI_ACTOR, sel),
  }
}

function httpClient(baseUrl: string, adminKey: string): RateLimitClient {
  const call = <T>(method: string, query: Selector, body?: unknown) => adminApiCall<T>(baseUrl, adminKey, method, `/admin/rate-limits${queryString(query)}`, body)
  return {
    set: (body) => call('PUT', {}, body),
    list: async (sel) => {
      const result = await call<{ data: PublicRateLimit[] }>('GET', sel)
      return result.ok ? { ok: true, value: result.value.data } : result
    },
    clear: (sel) => call('DELETE', sel),
  }
}

const target = { local: localClient, http: httpClient }

/** `--rpm 60` -> 60, `--rpm none` -> null (clear), absent -> undefined (keep); anything else is passed on for the server to reject. */
function rateFlag(args: ParsedArgs, name: string): number | string | null | undefined {
  const raw = stringFlag(args, name)
  if (raw === undefined) return undefined
  if (raw === 'none') return null
  return /^\d+$/.test(raw) ? Number(raw) : raw
}

const rate = (n: number | null) => (n === null ? '-' : String(n))
const scopeName = (l: PublicRateLimit) => (l.key_id ? `key ${l.key_id}` : `team ${l.team ?? l.team_id}`)

function printLimits(limits: PublicRateLimit[], out: Out): void {
  if (limits.length === 0) return out('no rate limits')
  const rows = [['SCOPE', 'TEAM', 'KEY', 'RPM', 'TPM'], ...limits.map((l) => [l.scope, l.team ?? '-', l.key_id ?? '-', rate(l.requests_per_minute), rate(l.tokens_per_minute)])]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const row of rows) out(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
}

/** Runs `limits <command>`; undefined when the command is not one of them (the caller prints usage). */
export async function runRateLimitsCommand(command: string | undefined, args: ParsedArgs, io: { out: Out; err: Out; env: NodeJS.ProcessEnv }): Promise<number | undefined> {
  const json = args.flags.get('json') === true
  const sel: Selector = { team: stringFlag(args, 'team'), key: stringFlag(args, 'key') }
  const report = <T>(result: OpResult<T>, human: (value: T) => void): number => reportResult(result, { ...io, json }, human)
  switch (command) {
    case 'set': {
      const body: Record<string, unknown> = { ...sel }
      const rpm = rateFlag(args, 'rpm')
      const tpm = rateFlag(args, 'tpm')
      if (rpm !== undefined) body.requests_per_minute = rpm
      if (tpm !== undefined) body.tokens_per_minute = tpm
      return withTarget(args, io.env, target, async (c) =>
        report(await c.set(body), (l) => io.out(`${scopeName(l)}: ${rate(l.requests_per_minute)} requests/min, ${rate(l.tokens_per_minute)} tokens/min`)),
      )
    }
    case 'list':
      return withTarget(args, io.env, target, async (c) => report(await c.list(sel), (limits) => printLimits(limits, io.out)))
    case 'clear':
      return withTarget(args, io.env, target, async (c) => report(await c.clear(sel), (l) => io.out(`cleared rate limits of ${scopeName(l)}`)))
    default:
      return undefined
  }
}
