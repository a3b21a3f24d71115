import type { Deepseek2Shape } from './layouts/deepseek2.js'
import type { LlamaMoeShape } from './layouts/llama-moe.js'

export type ModelSize = 'tiny' | 'demo' | 'bench'

/**
 * tiny: loads + generates in well under a second (unit tests).
 * demo: what `npm start` serves; a few MB, still fast.
 * bench: a few hundred MB so decode is memory-bandwidth bound.
 */
export const LLAMA_MOE_SHAPES: Record<ModelSize, LlamaMoeShape> = {
  tiny: {
    embeddingLength: 64,
    blockCount: 2,
    headCount: 4,
    headCountKv: 2,
    feedForwardLength: 128,
    expertCount: 8,
    expertUsedCount: 2,
    contextLength: 4096,
  },
  demo: {
    embeddingLength: 256,
    blockCount: 4,
    headCount: 8,
    headCountKv: 4,
    feedForwardLength: 512,
    expertCount: 8,
    expertUsedCount: 2,
    contextLength: 8192,
  },
  bench: {
    embeddingLength: 1024,
    blockCount: 6,
    headCount: 16,
    headCountKv: 4,
    feedForwardLength: 768,
    expertCount: 16,
    expertUsedCount: 2,
    contextLength: 8192,
  },
}

const DEEPSEEK2_ROUTING = {
  expertSharedCount: 1,
  expertGroupCount: 4,
  expertGroupUsedCount: 2,
  expertWeightsScale: 2.5,
} as const

/** DeepSeek-V3-shaped (q lora, MLA, 1 leading dense block, grouped sigmoid routing), scaled down. */
export const DEEPSEEK2_SHAPES: Record<ModelSize, Deepseek2Shape> = {
  tiny: {
    ...DEEPSEEK2_ROUTING,
    embeddingLength: 64,
    blockCount: 3,
    leadingDenseBlockCount: 1,
    headCount: 4,
    qLoraRank: 32,
    kvLoraRank: 32,
    qkNopeHeadDim: 32,
    qkRopeHeadDim: 16,
    vHeadDim: 32,
    feedForwardLength: 128,
    expertFeedForwardLength: 64,
    expertCount: 8,
    expertUsedCount: 2,
    contextLength: 4096,
  },
  demo: {
    ...DEEPSEEK2_ROUTING,
    embeddingLength: 256,
    blockCount: 4,
    leadingDenseBlockCount: 1,
    headCount: 4,
    qLoraRank: 128,
    kvLoraRank: 128,
    qkNopeHeadDim: 32,
    qkRopeHeadDim: 32,
    vHeadDim: 32,
    feedForwardLength: 512,
    expertFeedForwardLength: 256,
    expertCount: 16,
    expertUsedCount: 4,
    contextLength: 8192,
  },
  bench: {
    ...DEEPSEEK2_ROUTING,
    embeddingLength: 1024,
    blockCount: 6,
    leadingDenseBlockCount: 1,
    headCount: 8,
    qLoraRank: 384,
    kvLoraRank: 256,
    qkNopeHeadDim: 64,
    qkRopeHeadDim: 32,
    vHeadDim: 64,
    feedForwardLength: 2048,
    expertFeedForwardLength: 512,
    expertCount: 32,
    expertUsedCount: 4,
    contextLength: 8192,
  },
}
