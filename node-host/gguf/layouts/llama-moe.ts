import { kv } from '../metadata.js'
import { TensorSpecBuilder, type WeightQuant } from '../tensor-specs.js'
import { tokenizerMetadata, type TinyVocab } from '../vocab.js'
import { generalMetadata, type ModelLayout } from './shared.js'

/** Mixtral-style MoE on llama.cpp's `llama` architecture (src/models/llama.cpp). */
export interface LlamaMoeShape {
  embeddingLength: number
  blockCount: number
  headCount: number
  headCountKv: number
  /** Per-expert FFN width (llama.feed_forward_length when expert_count > 0). */
  feedForwardLength: number
  expertCount: number
  expertUsedCount: number
  contextLength: number
}

export function llamaMoeLayout(
  shape: LlamaMoeShape,
  vocab: TinyVocab,
  options: { seed: number; quant: WeightQuant; name: string },
): ModelLayout {
  const arch = 'llama'
  const nEmbd = shape.embeddingLength
  const headDim = nEmbd / shape.headCount
  if (!Number.isInteger(headDim)) throw new Error('embeddingLength must be divisible by headCount')
  const kvDim = headDim * shape.headCountKv
  const nVocab = vocab.tokens.length
  const nFf = shape.feedForwardLength
  const nExpert = shape.expertCount

  const metadata = [
    ...generalMetadata(arch, options.name, options.quant),
    [`${arch}.vocab_size`, kv.u32(nVocab)],
    [`${arch}.context_length`, kv.u32(shape.contextLength)],
    [`${arch}.embedding_length`, kv.u32(nEmbd)],
    [`${arch}.block_count`, kv.u32(shape.blockCount)],
    [`${arch}.feed_forward_length`, kv.u32(nFf)],
    [`${arch}.attention.head_count`, kv.u32(shape.headCount)],
    [`${arch}.attention.head_count_kv`, kv.u32(shape.headCountKv)],
    // llama requires n_rot == head dim (load_hparams "invalid n_rot")
    [`${arch}.rope.dimension_count`, kv.u32(headDim)],
    [`${arch}.rope.freq_base`, kv.f32(1_000_000)],
    [`${arch}.attention.layer_norm_rms_epsilon`, kv.f32(1e-5)],
    [`${arch}.expert_count`, kv.u32(nExpert)],
    [`${arch}.expert_used_count`, kv.u32(shape.expertUsedCount)],
    ...tokenizerMetadata(vocab),
  ] as const

  const t = new TensorSpecBuilder(options.seed, options.quant)
  t.random('token_embd.weight', [nEmbd, nVocab], 0.02)
  t.constant('output_norm.weight', [nEmbd], 1)
  t.random('output.weight', [nEmbd, nVocab], 1 / Math.sqrt(nEmbd))
  for (let i = 0; i < shape.blockCount; i++) {
    const blk = `blk.${i}`
    t.constant(`${blk}.attn_norm.weight`, [nEmbd], 1)
    t.random(`${blk}.attn_q.weight`, [nEmbd, nEmbd])
    t.random(`${blk}.attn_k.weight`, [nEmbd, kvDim])
    t.random(`${blk}.attn_v.weight`, [nEmbd, kvDim])
    t.random(`${blk}.attn_output.weight`, [nEmbd, nEmbd])
    t.constant(`${blk}.ffn_norm.weight`, [nEmbd], 1)
    t.random(`${blk}.ffn_gate_inp.weight`, [nEmbd, nExpert])
    t.random(`${blk}.ffn_gate_exps.weight`, [nEmbd, nFf, nExpert])
    t.random(`${blk}.ffn_down_exps.weight`, [nFf, nEmbd, nExpert])
    t.random(`${blk}.ffn_up_exps.weight`, [nEmbd, nFf, nExpert])
  }
  return { metadata: [...metadata], tensors: t.specs }
}
