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
