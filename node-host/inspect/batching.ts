/**
 * What streams decoding together can gain on an MoE model from expert overlap alone. In one decode step
 * of k streams every non-routed weight (attention, shared experts, dense FFN, router, output) is read
 * once for all k tokens, and a routed expert once if any of the k tokens chose it. With routing taken as
 * uniform and independent (real routers are skewed, which overlaps more), a layer of E experts of which a
 * token uses u reads E * (1 - (1 - u/E)^k) distinct experts.
 */
import type { WeightStats } from './model-stats.js'

/** Expected distinct experts a layer reads when `streams` tokens each pick `expertsUsed` of `expertCount`. */
export function expectedDistinctExperts(expertCount: number, expertsUsed: number, streams: number): number {
  if (expertCount <= 0) return 0
  return expertCount * distinctFraction(expertsUsed / expertCount, streams)
}

/** Share of a layer's experts read by `streams` tokens each using share `usedFraction` of them. */
function distinctFraction(usedFraction: number, streams: number): number {
  return 1 - (1 - usedFraction) ** streams
}

/**
 * Weight bytes one decode step of `streams` tokens reads: non-routed weights once, routed experts by the
 * expected distinct count. (Each extra stream's embedding row, a few KB, is left out.)
 */
export function bytesReadPerStep(weights: Pick<WeightStats, 'bytesReadPerToken' | 'routedExperts'>, streams: number): number {
  const routedAtOne = weights.routedExperts.reduce((sum, r) => sum + r.bytes * r.usedFraction, 0)
  const routedAtK = weights.routedExperts.reduce((sum, r) => sum + r.bytes * distinctFraction(r.usedFraction, streams), 0)
  return weights.bytesReadPerToken - routedAtOne + routedAtK
}

/**
 * The aggregate tokens/s `streams` streams can reach if a step costs what it reads: one stream's rate,
 * times k tokens per step, times the bytes one token reads over the bytes a k-token step reads.
 * @example expertOverlapCeiling(270, weights, 4) // 270 * 4 * 48 MB / 117 MB for the llama-moe bench model
 */
export function expertOverlapCeiling(singleStreamTokensPerSecond: number, weights: Pick<WeightStats, 'bytesReadPerToken' | 'routedExperts'>, streams: number): number {
  return (singleStreamTokensPerSecond * streams * bytesReadPerStep(weights, 1)) / bytesReadPerStep(weights, streams)
}
