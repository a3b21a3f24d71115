import { expertOverlapCeiling } from './batching.js'
import { predictBatchedStep, predictDecodeStep, type ComputeProfile, type DecodePrediction } from './compute-model.js'
import { kvCacheShape, type KvCacheShape } from './kv-cache.js'
import { predictDecodeTokensPerSecond, weightStats, type HeaderLike, type WeightStats } from './model-stats.js'

export interface CapacityPlanInput {
  contextTokens: number
  bandwidthBytesPerSecond: number
  /** KV cache element size; 2 for the default f16 cache. */
  kvBytesPerElement?: number
  /** llama.cpp's kernel speeds on this machine (compute-probe.ts); without it only the bandwidth roofline is given. */
  compute?: ComputeProfile
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
  /** One stream's decode step with compute beside bandwidth (compute-model.ts); null without a compute profile. */
  decode: DecodePrediction | null
  /** What 2 and 4 streams decoding together can reach, from expert overlap alone (batching.ts), at `decode`'s speed (else the roofline's). */
  batchedTokensPerSecond: Record<'2' | '4', number>
  /** The same when each token also multiplies its own weights (compute-model.ts); null without a compute profile. */
  batchedWithComputeTokensPerSecond: Record<'2' | '4', number> | null
}

/** Everything `inspect` reports, as a pure function of a parsed header and the inputs. */
export function capacityPlan(header: HeaderLike, input: CapacityPlanInput): CapacityPlan {
  const weights = weightStats(header)
  const shape = kvCacheShape(header.metadata)
  const bytesPerToken = shape.elementsPerToken * (input.kvBytesPerElement ?? 2)
  const bytesAtContext = bytesPerToken * input.contextTokens
  const decode = input.compute ? predictDecodeStep(weights, input.bandwidthBytesPerSecond, input.compute) : null
  const decodeTokensPerSecond = predictDecodeTokensPerSecond(weights.bytesReadPerToken, input.bandwidthBytesPerSecond)
  const single = decode?.tokensPerSecond ?? decodeTokensPerSecond
  return {
    weights,
    kvCache: { ...shape, bytesPerToken, bytesAtContext },
    contextTokens: input.contextTokens,
    ramBytes: weights.weightBytes + bytesAtContext,
    bandwidthBytesPerSecond: input.bandwidthBytesPerSecond,
    decodeTokensPerSecond,
    decodeTokensPerSecondAtContext: predictDecodeTokensPerSecond(
      weights.bytesReadPerToken + bytesAtContext,
      input.bandwidthBytesPerSecond,
    ),
    decode,
    batchedTokensPerSecond: { '2': expertOverlapCeiling(single, weights, 2), '4': expertOverlapCeiling(single, weights, 4) },
    batchedWithComputeTokensPerSecond: input.compute
      ? { '2': predictBatchedStep(weights, input.bandwidthBytesPerSecond, input.compute, 2).tokensPerSecond, '4': predictBatchedStep(weights, input.bandwidthBytesPerSecond, input.compute, 4).tokensPerSecond }
      : null,
  }
}
