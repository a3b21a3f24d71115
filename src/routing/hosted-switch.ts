import { recordAudit } from '../db/audit.js'
import type { GatewayDb } from '../db/client.js'
import type { TeamRow } from '../db/schema.js'
import { disableHosted, enableHosted } from '../db/teams.js'
import type { Logger } from '../log.js'
import type { RoutePlan } from './plan.js'
import type { SendResult } from './send-with-fallback.js'

export interface HostedSwitchDeps {
  db: GatewayDb
  now: () => number
  /** DeepSeek's balance check (GET /user/balance → is_available); none without a hosted backend. */
  balanceAvailable?: () => Promise<boolean>
  /** At most one balance check per this long (HOSTED_BALANCE_CHECK_MS). */
  checkIntervalMs: number
  /** Drops the team's cached key rows, so its next request reads the new state. */
  forgetTeam: (teamId: string) => void
  log: Logger
}

export const HOSTED_402_REASON = 'deepseek_402_insufficient_balance'

/**
 * Turns hosted off for a team after DeepSeek's 402 (balance spent), so each request stops paying a
 * doomed hosted round trip, and back on when an admin clears it or a balance check says it is
 * available again. The state lives on the team row; this process checks the balance lazily, on a
 * request of a switched-off team, at most once per interval.
 */
export class HostedSwitch {
  private lastCheckAtMs = Number.NEGATIVE_INFINITY

  constructor(private readonly deps: HostedSwitchDeps) {}

  /** The plan without hosted while the team's hosted is off; a 503 when nothing else is left. */
  async apply(plan: RoutePlan, team: TeamRow | undefined, recorder: { routeReason: string | null }): Promise<RoutePlan> {
    if (!plan.ok || !team || team.hostedDisabledAt === null || !plan.order.includes('hosted')) return plan
    if (await this.balanceBack(team)) return plan
    const order = plan.order.filter((name) => name !== 'hosted')
    recorder.routeReason = 'hosted-disabled'
    if (order.length > 0) return { ok: true, order }
    const since = new Date(team.hostedDisabledAt).toISOString()
    return {
      ok: false,
      status: 503,
      code: 'hosted_disabled',
      message: `Hosted DeepSeek is off for this team since ${since} (${team.hostedDisabledReason ?? 'disabled'}) and no local backend can take the request; it comes back when the DeepSeek balance is topped up, or when an admin sends PATCH /admin/teams/${team.name} {"hosted_disabled": false}`,
    }
  }

  /** After a request: a 402 from hosted switches hosted off for the team. */
  async observe(teamId: string, result: SendResult): Promise<void> {
    const hosted402 = result.fallbackReason === 'hosted:status_402' || (result.kind === 'failed' && result.backend.name === 'hosted' && result.status === 402)
    if (!hosted402) return
    try {
      const changed = await disableHosted(this.deps.db, teamId, this.deps.now(), HOSTED_402_REASON)
      if (changed) await recordAudit(this.deps.db, { actorKeyId: 'deepseek_402', actorRole: 'system', teamId, action: 'team.hosted_disable', target: teamId, details: { reason: HOSTED_402_REASON } })
      this.deps.forgetTeam(teamId)
    } catch (err) {
      this.deps.log.warn('hosted switch-off write failed', { teamId, error: err instanceof Error ? err.name : 'unknown' })
    }
  }

  private async balanceBack(team: TeamRow): Promise<boolean> {
    const nowMs = this.deps.now()
    if (!this.deps.balanceAvailable || nowMs - Math.max(this.lastCheckAtMs, team.hostedDisabledAt ?? 0) < this.deps.checkIntervalMs) return false
    this.lastCheckAtMs = nowMs // before the await: concurrent requests do not check too
    if (!(await this.deps.balanceAvailable())) return false
    try {
      const cleared = await enableHosted(this.deps.db, team.id)
      if (cleared) await recordAudit(this.deps.db, { actorKeyId: 'balance_check', actorRole: 'system', teamId: team.id, action: 'team.hosted_enable', target: team.id, details: { reason: 'deepseek balance available', disabled_at: team.hostedDisabledAt } })
      this.deps.forgetTeam(team.id)
    } catch (err) {
      this.deps.log.warn('hosted switch-on write failed', { teamId: team.id, error: err instanceof Error ? err.name : 'unknown' })
    }
    return true
  }
}
