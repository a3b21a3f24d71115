/**
 * inspect's decode-speed model: a step costs a fixed overhead plus its weight reading (bytes / bandwidth)
 * combined with its multiplying (weights / the kernels' throughput for their type), both measured on this
 * machine. They combine as a 3-norm, (read^3 + multiply^3)^(1/3): the slower side when one dominates, up
 * to 1.26x it when they are equal, because llama.cpp's single-token kernels hide memory stalls behind
 * compute in part, and how much is the CPU's doing. Measured against node-host's streamed decode of the
 * llama-moe bench models (median error of predicted tok/s, node-host/inspect/README.md): on a 2-vCPU
 * Intel Xeon (AMX) the step is almost max(read, multiply): 2-norm -25% Q8_0, -26% F16; 3-norm -17%, -18%;
 * max -8%, -9%. On the 2-vCPU AMD EPYC it is near the 2-norm (Q8_0 +1%/+3%, F16 -17%/-1%; max +29% Q8_0); the 3-norm's
 * errors there, from the same figures, come to about +13% and -6%.
 */
import { bytesReadPerStep } from './batching.js'
import type { WeightStats } from './model-stats.js'

/** One synthetic model the compute probe timed (compute-probe-child.ts). */
export interface ProbeModelTiming {
  /** GGUF type name of its matrices. */
  type: string
  /** small and large: the same depth, two widths (the slope is the kernels' speed); deep: the target's depth. */
  role: 'small' | 'large' | 'deep'
  blocks: number
  /** Weights multiplied per decode step (WeightStats.matmulParamsByType, summed). */
  matmulParams: number
  /** Median decode step, sampling included, ms. */
  stepMs: number
}

export interface ComputeProbeResult {
  /** llama.cpp CPU variant the probe loaded. */
  variant: string
  /** The size the probe models were kept under so their weights stay in cache. */
  cacheBudgetBytes: number
  models: ProbeModelTiming[]
}

export interface ComputeProfile {
  /** Weights per second one thread multiplies (weights in cache), by GGUF type name. */
  weightsPerSecondByType: Record<string, number>
  /** A step's cost beyond its multiplies (graph, short attention, sampling, the evaluate loop), ms. */
  stepOverheadMs: number
  variant: string
  threads: 1
}

export interface DecodePrediction {
  memoryMs: number
  computeMs: number
  overheadMs: number
  stepMs: number
  tokensPerSecond: number
  bound: 'memory' | 'compute'
  /** Matrix types the probe could not time (it writes F32, F16 and Q8_0 only): their compute is not counted. */
  unmeasuredTypes: string[]
}

/** Types holding less than this share of the multiplied weights are not timed or counted (norm-sized F32 leftovers, routers). */
export const MIN_TYPE_SHARE = 0.01

/** Kernel speeds and step overhead from the probe's timings. */
export function computeProfile(result: ComputeProbeResult): ComputeProfile {
  const weightsPerSecondByType: Record<string, number> = {}
  for (const small of result.models.filter((m) => m.role === 'small')) {
    const large = result.models.find((m) => m.role === 'large' && m.type === small.type)
    if (!large) continue
    const slope = (large.matmulParams - small.matmulParams) / ((large.stepMs - small.stepMs) / 1000)
    // Noise can flatten or invert the slope; then the large model's whole step is charged to its weights
    // (slower than the truth, never faster).
    weightsPerSecondByType[small.type] = Number.isFinite(slope) && slope > 0 ? slope : large.matmulParams / (large.stepMs / 1000)
  }
  const base = result.models.find((m) => m.role === 'deep') ?? result.models.find((m) => m.role === 'small')
  const baseRate = base ? weightsPerSecondByType[base.type] : undefined
  const stepOverheadMs = base && baseRate ? Math.max(0, base.stepMs - (base.matmulParams / baseRate) * 1000) : 0
  return { weightsPerSecondByType, stepOverheadMs, variant: result.variant, threads: 1 }
}

/** How read and multiply combine: 2 would be the EPYC's best fit, infinity (max) the Xeon's; 3 keeps both within ±20%. */
const OVERLAP_NORM = 3

/** Decode step time and tokens/s for one stream: overhead + the 3-norm of bytes / bandwidth and weights / kernel speed. */
export function predictDecodeStep(weights: Pick<WeightStats, 'bytesReadPerToken' | 'matmulParamsByType'>, bandwidthBytesPerSecond: number, profile: ComputeProfile): DecodePrediction {
  return predictStep(weights.bytesReadPerToken, 1, weights, bandwidthBytesPerSecond, profile)
}

/**
 * One step of `streams` tokens decoded together, one per stream: weights read as expert overlap allows
 * (batching.ts), but every token multiplied on its own, and the step's overhead paid once (the
 * optimistic side: sampling is per token). On a compute-bound machine this is why batching gains little.
 */
export function predictBatchedStep(weights: Pick<WeightStats, 'bytesReadPerToken' | 'matmulParamsByType' | 'routedExperts'>, bandwidthBytesPerSecond: number, profile: ComputeProfile, streams: number): DecodePrediction {
  return predictStep(bytesReadPerStep(weights, streams), streams, weights, bandwidthBytesPerSecond, profile)
}

function predictStep(readBytes: number, tokens: number, weights: Pick<WeightStats, 'matmulParamsByType'>, bandwidthBytesPerSecond: number, profile: ComputeProfile): DecodePrediction {
  const memoryMs = (readBytes / bandwidthBytesPerSecond) * 1000
  let computeMs = 0
  const unmeasuredTypes: string[] = []
  const entries = Object.entries(weights.matmulParamsByType)
  const total = entries.reduce((sum, [, params]) => sum + params, 0)
  for (const [type, params] of entries) {
    const rate = profile.weightsPerSecondByType[type]
    if (rate) computeMs += ((tokens * params) / rate) * 1000
    else if (params >= MIN_TYPE_SHARE * total) unmeasuredTypes.push(type)
  }
  const stepMs = profile.stepOverheadMs + combine(memoryMs, computeMs)
  return {
    memoryMs,
    computeMs,
    overheadMs: profile.stepOverheadMs,
    stepMs,
    tokensPerSecond: stepMs > 0 ? (tokens * 1000) / stepMs : Infinity,
    bound: computeMs > memoryMs ? 'compute' : 'memory',
    unmeasuredTypes,
  }
}

/** The OVERLAP_NORM-norm of a step's two sides. */
const combine = (readMs: number, multiplyMs: number): number => (readMs ** OVERLAP_NORM + multiplyMs ** OVERLAP_NORM) ** (1 / OVERLAP_NORM)
