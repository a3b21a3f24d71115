import { kvCacheShape, type KvCacheShape } from './kv-cache.js'
import { predictDecodeTokensPerSecond, weightStats, type HeaderLike, type WeightStats } from './model-stats.js'

export interface CapacityPlanInput {
  contextTokens: number
  bandwidthBytesPerSecond: number
  /** KV cache element size; 2 for the default f16 cache. */
  kvBytesPerElement?: number
}

export interface CapacityPlan {
  weights: WeightStats
  kvCache: KvCacheShape & { bytesPerToken: number; bytesAtContext: number }
  contextTokens: number
  /** Weights + KV cache at contextTokens (compute buffers excluded). */
  ramBytes: number
  bandwidthBytesPerSecond: number
  /** Roofline decode speed at an empty context: bandwidth / weight bytes per token. */
  decodeTokensPerSecond: number
  /** Same, when each step must also read a full context's KV cache. */
  decodeTokensPerSecondAtContext: number
}

/** Everything `inspect` reports, as a pure function of a parsed header and the inputs. */
export function capacityPlan(header: HeaderLike, input: CapacityPlanInput): CapacityPlan {
  const weights = weightStats(header)
  const shape = kvCacheShape(header.metadata)
  const bytesPerToken = shape.elementsPerToken * (input.kvBytesPerElement ?? 2)
  const bytesAtContext = bytesPerToken * input.contextTokens
  return {
    weights,
    kvCache: { ...shape, bytesPerToken, bytesAtContext },
    contextTokens: input.contextTokens,
    ramBytes: weights.weightBytes + bytesAtContext,
    bandwidthBytesPerSecond: input.bandwidthBytesPerSecond,
    decodeTokensPerSecond: predictDecodeTokensPerSecond(weights.bytesReadPerToken, input.bandwidthBytesPerSecond),
    decodeTokensPerSecondAtContext: predictDecodeTokensPerSecond(
      weights.bytesReadPerToken + bytesAtContext,
      input.bandwidthBytesPerSecond,
    ),
  }
}
