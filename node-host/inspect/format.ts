import type { BandwidthMeasurement } from './bandwidth.js'
import { computeProfile, type ComputeProbeResult } from './compute-model.js'
import type { CapacityPlan } from './plan.js'

export function formatCount(count: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']]
  for (const [scale, suffix] of units) if (Math.abs(count) >= scale) return `${(count / scale).toFixed(2)}${suffix}`
  return String(Math.round(count))
}

export function formatBytes(bytes: number): string {
  const units: [number, string][] = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']]
  for (const [scale, suffix] of units) if (bytes >= scale) return `${(bytes / scale).toFixed(2)} ${suffix}`
  return `${Math.round(bytes)} B`
}

const percent = (part: number, whole: number): string => (whole ? `${((100 * part) / whole).toFixed(1)}%` : '-')

export interface Measurements {
  bandwidth?: BandwidthMeasurement
  probe?: ComputeProbeResult
  /** Why the compute probe gave nothing, when it was asked for. */
  probeError?: string
}

/** Human-readable report lines for `node-host inspect`. */
export function formatPlan(path: string, plan: CapacityPlan, measured: Measurements = {}): string[] {
  const { bandwidth } = measured
  const w = plan.weights
  const roles = w.paramsByRole
  const kv = plan.kvCache
  const moe = w.expertCount ? `${w.expertCount} routed experts, ${w.expertUsedCount} used per token` : 'dense (no experts)'
  const bandwidthSource = bandwidth
    ? `measured here: single thread, best of ${bandwidth.passes} passes over ${formatBytes(bandwidth.bufferBytes)} (median ${bandwidth.medianGBs.toFixed(1)} GB/s)`
    : 'from --bandwidth-gbs'
  return [
    `model:          ${path}`,
    `architecture:   ${w.architecture}, ${w.blockCount} blocks, ${moe}`,
    `parameters:     ${formatCount(w.totalParams)} total, ${formatCount(w.activeParamsPerToken)} active per token (${percent(w.activeParamsPerToken, w.totalParams)})`,
    `  by role:      routed experts ${formatCount(roles['routed-experts'])}, shared experts ${formatCount(roles['shared-experts'])}, ` +
      `attention ${formatCount(roles.attention)}, dense FFN ${formatCount(roles['dense-ffn'])}, router ${formatCount(roles.router)}, ` +
      `embedding ${formatCount(roles['token-embedding'])}, output ${formatCount(roles.output)}, norms ${formatCount(roles.norms)}` +
      (roles.unused ? `, unused (MTP) ${formatCount(roles.unused)}` : ''),
    `quantization:   ${w.dominantType} (most bytes), ${w.bitsPerWeight.toFixed(2)} bits per weight overall`,
    `weights:        ${formatBytes(w.weightBytes)}`,
    `read per token: ${formatBytes(w.bytesReadPerToken)} of weights per decoded token`,
    `kv cache:       ${kv.kind === 'mla' ? 'MLA latent (kv_lora_rank + rope dims per layer)' : 'K+V per layer'}, ` +
      `${kv.elementsPerToken} elements = ${formatBytes(kv.bytesPerToken)} per token (f16), ${formatBytes(kv.bytesAtContext)} at ${plan.contextTokens} tokens`,
    `RAM:            ${formatBytes(plan.ramBytes)} = weights + KV cache at ${plan.contextTokens} tokens (compute buffers not included)`,
    `bandwidth:      ${(plan.bandwidthBytesPerSecond / 1e9).toFixed(1)} GB/s, ${bandwidthSource}`,
    ...decodeLines(plan, measured),
  ]
}

function decodeLines(plan: CapacityPlan, measured: Measurements): string[] {
  const roofline =
    `roofline:       ~${plan.decodeTokensPerSecond.toFixed(1)} tokens/s from bandwidth alone at short context, ` +
    `~${plan.decodeTokensPerSecondAtContext.toFixed(1)} tokens/s with ${plan.contextTokens} tokens of KV cache to read`
  const batched = `batched:        expert-overlap ceiling ~${plan.batchedTokensPerSecond['2'].toFixed(1)} tokens/s over 2 streams, ~${plan.batchedTokensPerSecond['4'].toFixed(1)} over 4 (aggregate, if a step costs what it reads)`
  const d = plan.decode
  if (!d) {
    return [
      roofline,
      batched,
      `note:           estimates. ${measured.probeError ? `Compute was not measured (${measured.probeError}); ` : 'Compute not measured (--compute-probe measures it on this machine); '}`,
      `                the roofline ignores it, thread scaling, cache reuse and prompt processing, so real speed is lower.`,
    ]
  }
  const probe = measured.probe
  const kernels = probe
    ? Object.entries(computeRates(probe)).map(([type, gps]) => `${type} ${gps.toFixed(1)}G weights/s`).join(', ')
    : ''
  return [
    `decode:         ~${d.tokensPerSecond.toFixed(1)} tokens/s predicted, one stream, one thread: ${d.stepMs.toFixed(2)} ms per token = ` +
      `${d.overheadMs.toFixed(2)} ms overhead + ${d.memoryMs.toFixed(2)} ms reading (+) ${d.computeMs.toFixed(2)} ms multiplying (3-norm: they overlap in part), ${d.bound}-bound`,
    ...(probe ? [`compute:        measured here with llama.cpp (${probe.variant}, 1 thread) on synthetic models of the same types kept in cache: ${kernels}`] : []),
    ...(d.unmeasuredTypes.length ? [`                not timed (the probe writes F32, F16 and Q8_0 only): ${d.unmeasuredTypes.join(', ')}; their compute is left out`] : []),
    roofline,
    batched,
    ...(plan.batchedWithComputeTokensPerSecond
      ? [`                with compute: ~${plan.batchedWithComputeTokensPerSecond['2'].toFixed(1)} over 2 streams, ~${plan.batchedWithComputeTokensPerSecond['4'].toFixed(1)} over 4 (every token multiplies its own weights)`]
      : []),
    `note:           estimates: short context, no prompt processing, no thread scaling beyond one thread.`,
  ]
}

/** Weights per second (in billions) by type, as the probe's profile fits them. */
function computeRates(probe: ComputeProbeResult): Record<string, number> {
  return Object.fromEntries(Object.entries(computeProfile(probe).weightsPerSecondByType).map(([type, rate]) => [type, rate / 1e9]))
}
