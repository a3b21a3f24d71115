/**
 * The synthetic models inspect's compute probe times: llama-moe layouts whose matrices all have one
 * weight type, two experts both used per token (so the FFN runs through llama.cpp's MoE kernel, as in the
 * models inspect plans for), small enough that their weights stay in cache, so a step's time is the
 * kernels' work and not memory traffic.
 */
import { encodedBytes } from '../gguf/encode.js'
import { llamaMoeLayout } from '../gguf/layouts/llama-moe.js'
import type { ModelLayout } from '../gguf/layouts/shared.js'
import type { WeightQuant } from '../gguf/tensor-specs.js'
import { buildTinyVocab } from '../gguf/vocab.js'
import { tensorElementCount } from '../gguf/writer.js'

/** GGUF type names the probe can write, and the writer's name for each. */
export const PROBE_QUANTS: Record<string, WeightQuant> = { F32: 'f32', F16: 'f16', Q8_0: 'q8_0' }

/** Depth of the small and large probe models; the deep one copies the planned model's block count up to MAX_DEEP_BLOCKS. */
export const PROBE_BLOCKS = 4
export const MAX_DEEP_BLOCKS = 64
export const SMALL_WIDTH = 64
// Multiples of 64: F16 dot products run 64 values per step and finish odd tails one value at a time.
const WIDTH_STEP = 64
const MAX_WIDTH = 1024

// Values do not matter for timing; a short repeating table writes a model in milliseconds where the
// test models' seeded Gaussians take seconds.
const PATTERN = Float32Array.from({ length: 4099 }, (_, i) => Math.sin(i * 12.9898) * 0.05)

export function probeLayout(quant: WeightQuant, width: number, blocks: number): ModelLayout {
  const shape = { embeddingLength: width, blockCount: blocks, headCount: 4, headCountKv: 2, feedForwardLength: width, expertCount: 2, expertUsedCount: 2, contextLength: 256 }
  const layout = llamaMoeLayout(shape, buildTinyVocab(), { seed: 1, quant, name: 'node-host inspect compute probe' })
  return {
    ...layout,
    tensors: layout.tensors.map((t) =>
      t.name.includes('norm')
        ? t
        : { ...t, fill: (out: Float32Array, first: number) => { for (let i = 0; i < out.length; i++) out[i] = PATTERN[(first + i) % PATTERN.length]! } },
    ),
  }
}

export function layoutBytes(layout: ModelLayout): number {
  return layout.tensors.reduce((sum, t) => sum + encodedBytes(t.type, tensorElementCount(t.dims)), 0)
}

/** The widest probe model of this type and depth whose weights fit `budgetBytes` (at least 2x the small width). */
export function largeProbeWidth(quant: WeightQuant, blocks: number, budgetBytes: number): number {
  for (let width = MAX_WIDTH; width > 2 * SMALL_WIDTH; width -= WIDTH_STEP) {
    if (layoutBytes(probeLayout(quant, width, blocks)) <= budgetBytes) return width
  }
  return 2 * SMALL_WIDTH
}

/**
 * How much of the cache the probe models may fill: a quarter of the last-level cache (a shared L3
 * also serves other cores and processes), 2-16 MB. On the 2-vCPU EPYC (32 MB L3) 9 MB still decoded at
 * cache speed and 16 MB already at memory speed.
 */
export function cacheBudgetBytes(lastLevelCacheBytes: number | undefined): number {
  const quarter = (lastLevelCacheBytes ?? 32 * 2 ** 20) / 4
  return Math.min(16 * 2 ** 20, Math.max(2 * 2 ** 20, quarter))
}
