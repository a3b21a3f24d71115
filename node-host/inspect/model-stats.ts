import type { GgufTensorInfo } from '../gguf/reader.js'
import { archNumber, archNumbers, architectureOf, layerValue, type GgufMetadata } from './metadata-values.js'

export interface HeaderLike {
  metadata: GgufMetadata
  tensors: readonly GgufTensorInfo[]
}

export type TensorRole = 'routed-experts' | 'shared-experts' | 'router' | 'attention' | 'dense-ffn' | 'token-embedding' | 'output' | 'norms' | 'unused'

export interface WeightStats {
  architecture: string
  blockCount: number
  expertCount: number
  expertUsedCount: number
  totalParams: number
  /** Convention as in model cards: all non-routed params + expert_used/expert_count of routed ones. */
  activeParamsPerToken: number
  paramsByRole: Record<TensorRole, number>
  weightBytes: number
  /** Weight bytes a single-token decode step reads (routed experts by fraction, one embedding row). */
  bytesReadPerToken: number
  /**
   * Active weights per token that go through a matrix multiply, by GGUF type name: what a decode step's
   * compute is made of (the embedding row is a lookup and norms are elementwise, so neither counts).
   */
  matmulParamsByType: Record<string, number>
  /**
   * The routed expert tensors' whole size, grouped by the share of experts a token uses
   * (expert_used_count / expert_count): the part of the bytes read that grows when streams decode together.
   */
  routedExperts: { usedFraction: number; bytes: number }[]
  dominantType: string
  bitsPerWeight: number
}

const ROUTED_EXPERTS = /\.ffn_(gate|up|down|gate_up)_exps\./
const SHARED_EXPERTS = /\.ffn_(gate|up|down)_(shexp|chexps)\./
const BLOCK_INDEX = /^blk\.(\d+)\./

/** What a tensor is for, from its llama.cpp name. */
export function tensorRole(name: string, blockCount: number): TensorRole {
  const block = BLOCK_INDEX.exec(name)
  // layers past block_count are MTP/NextN heads: loaded but unused for normal decoding
  if (block && Number(block[1]) >= blockCount) return 'unused'
  if (name.startsWith('token_embd.')) return 'token-embedding'
  if (name.startsWith('output.')) return 'output'
  if (ROUTED_EXPERTS.test(name)) return 'routed-experts'
  if (SHARED_EXPERTS.test(name)) return 'shared-experts'
  if (name.includes('.ffn_gate_inp.') || name.includes('.exp_probs_b.')) return 'router'
  if (name.includes('norm')) return 'norms'
  if (name.includes('.attn_')) return 'attention'
  if (/\.ffn_(gate|up|down)\./.test(name)) return 'dense-ffn'
  return 'norms' // small leftovers (biases, rope factors): always read, so count them as active
}

/** Parameter counts, bytes per token and quantization of a parsed GGUF header. */
export function weightStats(header: HeaderLike): WeightStats {
  const { metadata, tensors } = header
  const blockCount = archNumber(metadata, 'block_count') ?? 0
  const expertCount = archNumber(metadata, 'expert_count') ?? 0
  const expertUsedPerLayer = archNumbers(metadata, 'expert_used_count')
  const vocabRows = tensors.find((t) => t.name === 'token_embd.weight')?.dims[1]
  const hasOutput = tensors.some((t) => t.name === 'output.weight')

  const paramsByRole: Record<TensorRole, number> = {
    'routed-experts': 0, 'shared-experts': 0, router: 0, attention: 0, 'dense-ffn': 0,
    'token-embedding': 0, output: 0, norms: 0, unused: 0,
  }
  let totalParams = 0
  let activeParams = 0
  let weightBytes = 0
  let bytesReadPerToken = 0
  const bytesByType = new Map<string, number>()
  const matmulParamsByType: Record<string, number> = {}
  const routedBytesByFraction = new Map<number, number>()

  for (const tensor of tensors) {
    const role = tensorRole(tensor.name, blockCount)
    paramsByRole[role] += tensor.elementCount
    totalParams += tensor.elementCount
    weightBytes += tensor.byteSize
    bytesByType.set(tensor.typeName, (bytesByType.get(tensor.typeName) ?? 0) + tensor.byteSize)

    let activeFraction = 1
    if (role === 'unused') activeFraction = 0
    if (role === 'routed-experts' && expertCount > 0) {
      const layer = Number(BLOCK_INDEX.exec(tensor.name)?.[1] ?? 0)
      activeFraction = (layerValue(expertUsedPerLayer, layer) ?? expertCount) / expertCount
    }
    activeParams += tensor.elementCount * activeFraction
    if (role === 'routed-experts') routedBytesByFraction.set(activeFraction, (routedBytesByFraction.get(activeFraction) ?? 0) + tensor.byteSize)
    if (role !== 'token-embedding' && role !== 'norms' && role !== 'unused') {
      matmulParamsByType[tensor.typeName] = (matmulParamsByType[tensor.typeName] ?? 0) + tensor.elementCount * activeFraction
    }
    // get_rows reads one embedding row per token, unless the matrix doubles as the (tied) output head
    const readFraction = role === 'token-embedding' && hasOutput && vocabRows ? 1 / vocabRows : activeFraction
    bytesReadPerToken += tensor.byteSize * readFraction
  }

  const dominantType = [...bytesByType].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none'
  return {
    architecture: architectureOf(metadata),
    blockCount,
    expertCount,
    expertUsedCount: archNumber(metadata, 'expert_used_count') ?? 0,
    totalParams,
    activeParamsPerToken: Math.round(activeParams),
    paramsByRole,
    weightBytes,
    bytesReadPerToken: Math.round(bytesReadPerToken),
    matmulParamsByType,
    routedExperts: [...routedBytesByFraction].map(([usedFraction, bytes]) => ({ usedFraction, bytes })),
    dominantType,
    bitsPerWeight: totalParams ? (weightBytes * 8) / totalParams : 0,
  }
}

/** Memory-bandwidth roofline: every weight byte read per token must cross the memory bus once. */
export function predictDecodeTokensPerSecond(bytesReadPerToken: number, bandwidthBytesPerSecond: number): number {
  return bytesReadPerToken > 0 ? bandwidthBytesPerSecond / bytesReadPerToken : Infinity
}
