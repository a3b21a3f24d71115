import type { BandwidthMeasurement } from './bandwidth.js'
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

/** Human-readable report lines for `node-host inspect`. */
export function formatPlan(path: string, plan: CapacityPlan, bandwidth: BandwidthMeasurement | undefined): string[] {
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
    `decode:         ~${plan.decodeTokensPerSecond.toFixed(1)} tokens/s predicted at short context, ` +
      `~${plan.decodeTokensPerSecondAtContext.toFixed(1)} tokens/s with ${plan.contextTokens} tokens of KV cache to read`,
    `note:           estimates. Decode speed is a memory-bandwidth roofline (bytes read per token / bandwidth):`,
    `                it ignores compute, thread scaling, cache reuse and prompt processing; real speed is lower.`,
  ]
}
