import { archNumber, archNumbers, layerValue, type GgufMetadata } from './metadata-values.js'

export interface KvCacheShape {
  /** 'mla': one compressed latent (kv_lora_rank + rope dims) per layer, as llama.cpp caches DeepSeek MLA. */
  kind: 'mla' | 'mha'
  /** Cache elements stored per token, summed over layers. */
  elementsPerToken: number
}

/** Elements llama.cpp's KV cache stores per token (K and V, all layers). */
export function kvCacheShape(metadata: GgufMetadata): KvCacheShape {
  const blockCount = archNumber(metadata, 'block_count') ?? 0
  const kvLoraRank = archNumber(metadata, 'attention.kv_lora_rank')
  const ropeDims = archNumber(metadata, 'rope.dimension_count') ?? 0
  const isMla = kvLoraRank !== undefined && archNumber(metadata, 'attention.key_length_mla') !== undefined
  if (isMla) {
    // K cache holds [kv_lora_rank | rope] per token; V is a view of it (no separate V cache)
    return { kind: 'mla', elementsPerToken: blockCount * (kvLoraRank + ropeDims) }
  }
  const embd = archNumber(metadata, 'embedding_length') ?? 0
  const headCounts = archNumbers(metadata, 'attention.head_count')
  const kvHeadCounts = archNumbers(metadata, 'attention.head_count_kv') ?? headCounts
  let elementsPerToken = 0
  for (let layer = 0; layer < blockCount; layer++) {
    const heads = layerValue(headCounts, layer) ?? 0
    if (heads === 0) continue // recurrent / attention-free layer
    const kvHeads = layerValue(kvHeadCounts, layer) ?? heads
    const keyLength = archNumber(metadata, 'attention.key_length') ?? embd / heads
    const valueLength = archNumber(metadata, 'attention.value_length') ?? embd / heads
    elementsPerToken += kvHeads * (keyLength + valueLength)
  }
  return { kind: 'mha', elementsPerToken }
}

/** KV cache bytes for `contextTokens` tokens (default cache type f16 = 2 bytes/element). */
export function kvCacheBytes(metadata: GgufMetadata, contextTokens: number, bytesPerElement = 2): number {
  return kvCacheShape(metadata).elementsPerToken * bytesPerElement * contextTokens
}
