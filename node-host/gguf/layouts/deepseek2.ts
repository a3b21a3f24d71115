import { kv } from '../metadata.js'
import { TensorSpecBuilder, type WeightQuant } from '../tensor-specs.js'
import { tokenizerMetadata, type TinyVocab } from '../vocab.js'
import { generalMetadata, type ModelLayout } from './shared.js'

/**
 * DeepSeek-V3/R1-style model on llama.cpp's `deepseek2` architecture (src/models/deepseek2.cpp):
 * MLA attention, leading dense blocks, shared expert, sigmoid routing with exp_probs_b bias,
 * grouped expert selection.
 */
export interface Deepseek2Shape {
  embeddingLength: number
  blockCount: number
  leadingDenseBlockCount: number
  headCount: number
  /** 0 = project q directly with attn_q (V2-Lite style), else attn_q_a/q_a_norm/q_b. */
  qLoraRank: number
  kvLoraRank: number
  qkNopeHeadDim: number
  qkRopeHeadDim: number
  vHeadDim: number
  /** FFN width of the leading dense blocks. */
  feedForwardLength: number
  expertFeedForwardLength: number
  expertCount: number
  expertUsedCount: number
  expertSharedCount: number
  expertGroupCount: number
  expertGroupUsedCount: number
  expertWeightsScale: number
  contextLength: number
}

const EXPERT_GATING_FUNC_SIGMOID = 2 // LLAMA_EXPERT_GATING_FUNC_TYPE_SIGMOID (src/llama-hparams.h)

export function deepseek2Layout(
  shape: Deepseek2Shape,
  vocab: TinyVocab,
  options: { seed: number; quant: WeightQuant; name: string },
): ModelLayout {
  const arch = 'deepseek2'
  const nEmbd = shape.embeddingLength
  const nHead = shape.headCount
  const nVocab = vocab.tokens.length
  const kHeadDimMla = shape.qkNopeHeadDim + shape.qkRopeHeadDim
  const kvLora = shape.kvLoraRank
  const nFfExp = shape.expertFeedForwardLength
  const nExpert = shape.expertCount
  const nFfShared = nFfExp * shape.expertSharedCount

  const metadata = [
    ...generalMetadata(arch, options.name, options.quant),
    [`${arch}.vocab_size`, kv.u32(nVocab)],
    [`${arch}.context_length`, kv.u32(shape.contextLength)],
    [`${arch}.embedding_length`, kv.u32(nEmbd)],
    [`${arch}.block_count`, kv.u32(shape.blockCount)],
    [`${arch}.feed_forward_length`, kv.u32(shape.feedForwardLength)],
    [`${arch}.attention.head_count`, kv.u32(nHead)],
    // MLA is stored as MQA over the compressed latent: one KV "head" of kv_lora_rank + rope dims
    [`${arch}.attention.head_count_kv`, kv.u32(1)],
    [`${arch}.attention.key_length`, kv.u32(kvLora + shape.qkRopeHeadDim)],
    [`${arch}.attention.value_length`, kv.u32(kvLora)],
    [`${arch}.attention.key_length_mla`, kv.u32(kHeadDimMla)],
    [`${arch}.attention.value_length_mla`, kv.u32(shape.vHeadDim)],
    // required unless the model is a "lite" variant (26/27 layers), so write it even when 0
    [`${arch}.attention.q_lora_rank`, kv.u32(shape.qLoraRank)],
    [`${arch}.attention.kv_lora_rank`, kv.u32(kvLora)],
    [`${arch}.attention.layer_norm_rms_epsilon`, kv.f32(1e-6)],
    [`${arch}.rope.dimension_count`, kv.u32(shape.qkRopeHeadDim)],
    [`${arch}.rope.freq_base`, kv.f32(10_000)],
    [`${arch}.leading_dense_block_count`, kv.u32(shape.leadingDenseBlockCount)],
    [`${arch}.expert_feed_forward_length`, kv.u32(nFfExp)],
    [`${arch}.expert_count`, kv.u32(nExpert)],
    [`${arch}.expert_used_count`, kv.u32(shape.expertUsedCount)],
    [`${arch}.expert_shared_count`, kv.u32(shape.expertSharedCount)],
    [`${arch}.expert_group_count`, kv.u32(shape.expertGroupCount)],
    [`${arch}.expert_group_used_count`, kv.u32(shape.expertGroupUsedCount)],
    [`${arch}.expert_weights_scale`, kv.f32(shape.expertWeightsScale)],
    [`${arch}.expert_weights_norm`, kv.bool(true)],
    [`${arch}.expert_gating_func`, kv.u32(EXPERT_GATING_FUNC_SIGMOID)],
    ...tokenizerMetadata(vocab),
  ] as const

  const t = new TensorSpecBuilder(options.seed, options.quant)
  t.random('token_embd.weight', [nEmbd, nVocab], 0.02)
  t.constant('output_norm.weight', [nEmbd], 1)
  t.random('output.weight', [nEmbd, nVocab], 1 / Math.sqrt(nEmbd))
  for (let i = 0; i < shape.blockCount; i++) {
    const blk = `blk.${i}`
    t.constant(`${blk}.attn_norm.weight`, [nEmbd], 1)
    if (shape.qLoraRank > 0) {
      t.random(`${blk}.attn_q_a.weight`, [nEmbd, shape.qLoraRank])
      t.constant(`${blk}.attn_q_a_norm.weight`, [shape.qLoraRank], 1)
      t.random(`${blk}.attn_q_b.weight`, [shape.qLoraRank, nHead * kHeadDimMla])
    } else {
      t.random(`${blk}.attn_q.weight`, [nEmbd, nHead * kHeadDimMla])
    }
    t.random(`${blk}.attn_kv_a_mqa.weight`, [nEmbd, kvLora + shape.qkRopeHeadDim])
    t.constant(`${blk}.attn_kv_a_norm.weight`, [kvLora], 1)
    // split (MLA-absorbable) form of the legacy attn_kv_b tensor
    t.random(`${blk}.attn_k_b.weight`, [shape.qkNopeHeadDim, kvLora, nHead])
    t.random(`${blk}.attn_v_b.weight`, [kvLora, shape.vHeadDim, nHead])
    t.random(`${blk}.attn_output.weight`, [nHead * shape.vHeadDim, nEmbd])
    t.constant(`${blk}.ffn_norm.weight`, [nEmbd], 1)
    if (i < shape.leadingDenseBlockCount) {
      t.random(`${blk}.ffn_gate.weight`, [nEmbd, shape.feedForwardLength])
      t.random(`${blk}.ffn_down.weight`, [shape.feedForwardLength, nEmbd])
      t.random(`${blk}.ffn_up.weight`, [nEmbd, shape.feedForwardLength])
      continue
    }
    t.random(`${blk}.ffn_gate_inp.weight`, [nEmbd, nExpert])
    t.random(`${blk}.exp_probs_b.bias`, [nExpert], 0.01)
    t.random(`${blk}.ffn_gate_exps.weight`, [nEmbd, nFfExp, nExpert])
    t.random(`${blk}.ffn_down_exps.weight`, [nFfExp, nEmbd, nExpert])
    t.random(`${blk}.ffn_up_exps.weight`, [nEmbd, nFfExp, nExpert])
    t.random(`${blk}.ffn_gate_shexp.weight`, [nEmbd, nFfShared])
    t.random(`${blk}.ffn_down_shexp.weight`, [nFfShared, nEmbd])
    t.random(`${blk}.ffn_up_shexp.weight`, [nEmbd, nFfShared])
  }
  return { metadata: [...metadata], tensors: t.specs }
}
