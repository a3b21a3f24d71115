import type { UsageRow } from '../db/schema.js'
import type { BackendName } from '../routing/plan.js'
import { localCostNanoUsd, type HostShare } from './local-cost.js'
import type { TokenUsage } from './token-usage.js'

export interface CostInput {
  backend: BackendName
  /** The model the backend says answered. */
  upstreamModel: string | null
  /** The request's name on hosted: an alias's hosted model, else the name asked for; null when hosted has none. */
  hostedModel: string | null
  /** When the request started: the price in force then applies. */
  at: Date
  usage: TokenUsage
}

/**
 * Prices a request's tokens in integer nano-USD: what it cost (hosted tokens; 0 for local, whose
 * hardware is accounted by busy time) and what the hosted API would have charged for the same tokens.
 */
export type CostFn = (opts: CostInput) => { costNanoUsd: number; hostedEquivNanoUsd: number }

export type UsageCharges = Pick<UsageRow, 'costNanoUsd' | 'hostedEquivNanoUsd' | 'busyMs' | 'localCostNanoUsd'>

const NO_CHARGES: UsageCharges = { costNanoUsd: 0, hostedEquivNanoUsd: 0, busyMs: null, localCostNanoUsd: 0 }

/**
 * The money columns of a usage row. A request no backend took costs nothing. A local one also
 * carries its share of its node-host's busy time (whole ms, settled here: see HostShare) and that
 * time at the host's hourly rate.
 */
export function usageCharges(cost: CostFn, input: Omit<CostInput, 'backend'> & { backend: BackendName | null; hostShare?: HostShare }): UsageCharges {
  const { backend, hostShare, ...rest } = input
  if (!backend) return NO_CHARGES
  const priced = cost({ backend, ...rest })
  if (backend !== 'local' || !hostShare) return { ...NO_CHARGES, ...priced }
  const busyMs = Math.max(0, Math.round(hostShare.settleBusyMs()))
  return { ...priced, busyMs, localCostNanoUsd: localCostNanoUsd(hostShare.costNanoUsdPerHour, busyMs) }
}
