import { describe, expect, it } from 'vitest'
import { deepseek2Layout } from '../../node-host/gguf/layouts/deepseek2.js'
import { DEEPSEEK2_SHAPES, LLAMA_MOE_SHAPES } from '../../node-host/gguf/presets.js'
import type { GgufTensorInfo, GgufValue } from '../../node-host/gguf/reader.js'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { buildTinyVocab, type TinyVocab } from '../../node-host/gguf/vocab.js'
import { tensorElementCount } from '../../node-host/gguf/writer.js'
import { measureReadBandwidth } from '../../node-host/inspect/bandwidth.js'
import { runInspect } from '../../node-host/inspect/command.js'
import { kvCacheBytes, kvCacheShape } from '../../node-host/inspect/kv-cache.js'
import { predictDecodeTokensPerSecond, weightStats } from '../../node-host/inspect/model-stats.js'
import { capacityPlan } from '../../node-host/inspect/plan.js'

function tensor(name: string, dims: number[], typeName: string, byteSize: number): GgufTensorInfo {
  return { name, dims, type: 0, typeName, offsetBytes: 0, elementCount: dims.reduce((a, b) => a * b, 1), byteSize }
}

describe('weightStats (pure)', () => {
  const metadata: Record<string, GgufValue> = {
    'general.architecture': 'deepseek2',
    'deepseek2.block_count': 2,
    'deepseek2.expert_count': 4,
    'deepseek2.expert_used_count': 1,
  }
  const tensors = [
    tensor('token_embd.weight', [4, 10], 'F32', 160),
    tensor('output.weight', [4, 10], 'F16', 80),
    tensor('blk.0.ffn_up.weight', [4, 8], 'F32', 128),
    tensor('blk.1.ffn_up_exps.weight', [4, 8, 4], 'F32', 512),
    tensor('blk.1.ffn_up_shexp.weight', [4, 8], 'F32', 128),
    tensor('blk.1.ffn_gate_inp.weight', [4, 4], 'F32', 64),
    tensor('blk.1.attn_kv_a_mqa.weight', [32, 2], 'Q8_0', 68),
    tensor('blk.2.nextn.eh_proj.weight', [8, 4], 'F32', 128), // MTP layer beyond block_count
  ]

  it('counts routed experts at expert_used/expert_count and skips MTP layers', () => {
    const stats = weightStats({ metadata, tensors })
    expect(stats.totalParams).toBe(384)
    // 384 - 3/4 of 128 routed - 32 unused
    expect(stats.activeParamsPerToken).toBe(256)
    expect(stats.paramsByRole['routed-experts']).toBe(128)
    expect(stats.paramsByRole['shared-experts']).toBe(32)
    expect(stats.paramsByRole.unused).toBe(32)
    expect(stats.weightBytes).toBe(1268)
    // one embedding row (16) + output 80 + dense 128 + 1/4 experts 128 + shexp 128 + router 64 + attn 68
    expect(stats.bytesReadPerToken).toBe(612)
    expect(stats.dominantType).toBe('F32')
    expect(stats.bitsPerWeight).toBeCloseTo((1268 * 8) / 384, 10)
  })

  it('reads the whole embedding matrix per token when it is tied to the output head', () => {
    const tied = tensors.filter((t) => t.name !== 'output.weight')
    expect(weightStats({ metadata, tensors: tied }).bytesReadPerToken).toBe(612 - 80 - 16 + 160)
  })

  it('predicts decode speed as bandwidth / bytes per token', () => {
    expect(predictDecodeTokensPerSecond(1e9, 460e9)).toBe(460)
  })

  it('puts DeepSeek-V3 at ~671B total and ~37B active parameters', () => {
    // real V3 config: 61 layers (3 dense), 256 experts (8 used) + 1 shared, 129280-token vocab
    const v3 = {
      ...DEEPSEEK2_SHAPES.bench,
      embeddingLength: 7168, blockCount: 61, leadingDenseBlockCount: 3, headCount: 128,
      qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128,
      feedForwardLength: 18432, expertFeedForwardLength: 2048, expertCount: 256, expertUsedCount: 8,
      expertGroupCount: 8, expertGroupUsedCount: 4,
    }
    const vocab: TinyVocab = { tokens: new Array<string>(129280).fill('x'), tokenTypes: [], merges: [], bosId: 0, eosId: 1 }
    const layout = deepseek2Layout(v3, vocab, { seed: 1, quant: 'q8_0', name: 'v3' })
    const header = {
      metadata: Object.fromEntries(
        layout.metadata.filter(([, v]) => v.type !== 9).map(([key, v]) => [key, 'value' in v ? (v.value as GgufValue) : 0]),
      ),
      tensors: layout.tensors.map((t) => tensor(t.name, [...t.dims], 'Q8_0', (tensorElementCount(t.dims) * 34) / 32)),
    }
    const stats = weightStats(header)
    expect(stats.totalParams / 1e9).toBeGreaterThan(665)
    expect(stats.totalParams / 1e9).toBeLessThan(677)
    expect(stats.activeParamsPerToken / 1e9).toBeGreaterThan(36)
    expect(stats.activeParamsPerToken / 1e9).toBeLessThan(39)
    // MLA cache: 61 layers x (512 + 64) f16 values per token
    expect(kvCacheShape(header.metadata)).toEqual({ kind: 'mla', elementsPerToken: 61 * 576 })
  })
})

describe('kv cache (pure)', () => {
  it('uses 2 * n_head_kv * head_dim per layer for MHA/GQA, honouring per-layer head counts', () => {
    const metadata: Record<string, GgufValue> = {
      'general.architecture': 'llama',
      'llama.block_count': 2,
      'llama.embedding_length': 64,
      'llama.attention.head_count': 4,
      'llama.attention.head_count_kv': [2, 4],
    }
    expect(kvCacheShape(metadata)).toEqual({ kind: 'mha', elementsPerToken: 2 * 2 * 16 + 2 * 4 * 16 })
    expect(kvCacheBytes(metadata, 1000)).toBe(192 * 2 * 1000)
    expect(kvCacheBytes(metadata, 1000, 1)).toBe(192 * 1000)
  })

  it('uses kv_lora_rank + rope dims per layer for deepseek2 MLA', () => {
    const metadata: Record<string, GgufValue> = {
      'general.architecture': 'deepseek2',
      'deepseek2.block_count': 3,
      'deepseek2.attention.head_count': 16,
      'deepseek2.attention.head_count_kv': 1,
      'deepseek2.attention.kv_lora_rank': 512,
      'deepseek2.attention.key_length_mla': 192,
      'deepseek2.rope.dimension_count': 64,
    }
    expect(kvCacheShape(metadata)).toEqual({ kind: 'mla', elementsPerToken: 3 * 576 })
  })
})

describe('inspect on generated models', () => {
  it('matches hand-computed numbers for llama-moe tiny', async () => {
    const path = await ensureTestModel({ layout: 'llama-moe' })
    const lines: string[] = []
    expect(await runInspect([path, '--json', '--bandwidth-gbs', '100', '--context', '1024'], (l) => lines.push(l))).toBe(0)
    const report = JSON.parse(lines.join('\n'))
    const s = LLAMA_MOE_SHAPES.tiny
    const vocab = buildTinyVocab().tokens.length
    const headDim = s.embeddingLength / s.headCount
    const attention = 2 * s.embeddingLength ** 2 + 2 * s.embeddingLength * headDim * s.headCountKv
    const routed = 3 * s.embeddingLength * s.feedForwardLength * s.expertCount
    const perBlock = attention + routed + s.embeddingLength * s.expertCount + 2 * s.embeddingLength
    const total = 2 * vocab * s.embeddingLength + s.embeddingLength + s.blockCount * perBlock
    expect(report.weights.totalParams).toBe(total)
    expect(report.weights.totalParams).toBe(503_744)
    expect(report.weights.activeParamsPerToken).toBe(total - (s.blockCount * routed * (s.expertCount - s.expertUsedCount)) / s.expertCount)
    // Q8_0 = 34 bytes per 32 weights; router and norms F32; one embedding row per token
    const q8 = (n: number) => (n * 34) / 32
    const perBlockRead = q8(attention) + q8(routed) / 4 + 4 * s.embeddingLength * s.expertCount + 4 * 2 * s.embeddingLength
    expect(report.weights.bytesReadPerToken).toBe(q8(s.embeddingLength) + q8(vocab * s.embeddingLength) + 4 * s.embeddingLength + s.blockCount * perBlockRead)
    expect(report.weights.dominantType).toBe('Q8_0')
    expect(report.kvCache.elementsPerToken).toBe(s.blockCount * 2 * s.headCountKv * headDim)
    expect(report.ramBytes).toBe(report.weights.weightBytes + report.kvCache.elementsPerToken * 2 * 1024)
    expect(report.decodeTokensPerSecond).toBeCloseTo(100e9 / report.weights.bytesReadPerToken, 6)
    expect(report.bandwidthMeasurement).toBeNull()
  })

  it('counts deepseek2 dense, shared and routed parameters', async () => {
    const path = await ensureTestModel({ layout: 'deepseek2' })
    const lines: string[] = []
    expect(await runInspect([path, '--json', '--bandwidth-gbs', '50'], (l) => lines.push(l))).toBe(0)
    const { weights, kvCache } = JSON.parse(lines.join('\n'))
    const s = DEEPSEEK2_SHAPES.tiny
    const routedPerBlock = 3 * s.embeddingLength * s.expertFeedForwardLength * s.expertCount
    const moeBlocks = s.blockCount - s.leadingDenseBlockCount
    expect(weights.paramsByRole['routed-experts']).toBe(moeBlocks * routedPerBlock)
    expect(weights.paramsByRole['shared-experts']).toBe(moeBlocks * 3 * s.embeddingLength * s.expertFeedForwardLength)
    expect(weights.paramsByRole['dense-ffn']).toBe(s.leadingDenseBlockCount * 3 * s.embeddingLength * s.feedForwardLength)
    expect(weights.totalParams - weights.activeParamsPerToken).toBe((moeBlocks * routedPerBlock * (s.expertCount - s.expertUsedCount)) / s.expertCount)
    expect(kvCache).toMatchObject({ kind: 'mla', elementsPerToken: s.blockCount * (s.kvLoraRank + s.qkRopeHeadDim) })
  })

  it('prints a readable report and fails cleanly on bad input', async () => {
    const path = await ensureTestModel({ layout: 'deepseek2' })
    const lines: string[] = []
    expect(await runInspect([path, '--bandwidth-gbs', '460', '--context', '8192'], (l) => lines.push(l))).toBe(0)
    const text = lines.join('\n')
    expect(text).toMatch(/architecture:\s+deepseek2, 3 blocks, 8 routed experts, 2 used per token/)
    expect(text).toMatch(/kv cache:\s+MLA latent/)
    expect(text).toMatch(/bandwidth:\s+460\.0 GB\/s, from --bandwidth-gbs/)

    const errors: string[] = []
    expect(await runInspect([], (l) => errors.push(l))).toBe(2)
    expect(await runInspect([path, '--context', 'lots'], (l) => errors.push(l))).toBe(2)
    expect(await runInspect([path, '--bogus'], (l) => errors.push(l))).toBe(2)
    expect(await runInspect(['/nonexistent/model.gguf', '--bandwidth-gbs', '1'], (l) => errors.push(l))).toBe(1)
    expect(errors.some((l) => l.includes('/nonexistent/model.gguf'))).toBe(true)
  })

  it('capacityPlan adds KV reads to the at-context prediction', () => {
    const metadata: Record<string, GgufValue> = { 'general.architecture': 'llama', 'llama.block_count': 1, 'llama.embedding_length': 8, 'llama.attention.head_count': 1 }
    const plan = capacityPlan({ metadata, tensors: [tensor('output.weight', [8, 10], 'F32', 320)] }, { contextTokens: 10, bandwidthBytesPerSecond: 1000 })
    expect(plan.kvCache.bytesPerToken).toBe(32) // (8 + 8) f16 values
    expect(plan.decodeTokensPerSecond).toBeCloseTo(1000 / 320, 10)
    expect(plan.decodeTokensPerSecondAtContext).toBeCloseTo(1000 / (320 + 320), 10)
    expect(plan.ramBytes).toBe(640)
  })
})

describe('measureReadBandwidth', () => {
  it('reports finite GB/s from several passes over the buffer', () => {
    const result = measureReadBandwidth({ bufferBytes: 16 * 1024 * 1024, budgetMs: 50, maxPasses: 5 })
    expect(result.passes).toBeGreaterThanOrEqual(3)
    expect(result.bufferBytes).toBe(16 * 1024 * 1024)
    expect(result.bestGBs).toBeGreaterThanOrEqual(result.medianGBs)
    expect(result.medianGBs).toBeGreaterThan(0.1)
    expect(Number.isFinite(result.bestGBs)).toBe(true)
  })
})
