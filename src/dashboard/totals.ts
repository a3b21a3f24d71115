import type { RollupSums } from '../db/rollups.js'
import { quantileOf } from '../metering/latency-buckets.js'
import type { ReportTotals } from './report-types.js'

/** Raw rollup sums as a page shows them: percentiles read off the histograms, rates derived. */
export function reportTotals(s: RollupSums): ReportTotals {
  return {
    requests: s.requests,
    errors: s.errors,
    fallbacks: s.fallbacks,
    clientAborts: s.clientAborts,
    localRequests: s.localRequests,
    hostedRequests: s.hostedRequests,
    promptTokens: s.promptTokens,
    cacheHitTokens: s.cacheHitTokens,
    cacheMissTokens: s.cacheMissTokens,
    completionTokens: s.completionTokens,
    reasoningTokens: s.reasoningTokens,
    // Local rows carry cost 0 (their money is local_cost), so cost_nano_usd is what the API billed.
    hostedCostNanoUsd: s.costNanoUsd,
    localCostNanoUsd: s.localCostNanoUsd,
    localHostedEquivNanoUsd: s.localHostedEquivNanoUsd,
    savingsNanoUsd: s.localHostedEquivNanoUsd - s.localCostNanoUsd,
    latencyP50Ms: quantileOf(s.latency, 0.5),
    latencyP95Ms: quantileOf(s.latency, 0.95),
    ttftP50Ms: quantileOf(s.ttft, 0.5),
    ttftP95Ms: quantileOf(s.ttft, 0.95),
    localDecodeTokensPerSecond: s.decodeMs > 0 ? Math.round((s.decodeTokens * 10_000) / s.decodeMs) / 10 : null,
  }
}
