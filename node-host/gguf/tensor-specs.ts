import { GgmlType } from './constants.js'
import { Q8_0_BLOCK_ELEMENTS, type WritableTensorType } from './encode.js'
import { gaussian, hashString32, mulberry32 } from './prng.js'
import type { GgufTensorSpec } from './writer.js'

export type WeightQuant = 'f32' | 'f16' | 'q8_0'

const QUANT_TYPE: Record<WeightQuant, WritableTensorType> = {
  f32: GgmlType.F32,
  f16: GgmlType.F16,
  q8_0: GgmlType.Q8_0,
}

/**
 * Storage type for a weight, following llama-quantize's rules: 1-D tensors (norms, biases)
 * and the expert router stay F32; rows that don't fill whole Q8_0 blocks fall back to F16.
 */
export function storageType(name: string, dims: readonly number[], quant: WeightQuant): WritableTensorType {
  if (dims.length < 2 || name.includes('ffn_gate_inp')) return GgmlType.F32
  const type = QUANT_TYPE[quant]
  if (type === GgmlType.Q8_0 && dims[0]! % Q8_0_BLOCK_ELEMENTS !== 0) return GgmlType.F16
  return type
}

/** Builds the tensor specs of a model: one seeded random stream per tensor name. */
export class TensorSpecBuilder {
  readonly specs: GgufTensorSpec[] = []

  constructor(
    private readonly seed: number,
    private readonly quant: WeightQuant,
  ) {}

  /** Random N(0, std) weight; std defaults to 0.5/sqrt(fan-in) so activations stay O(1). */
  random(name: string, dims: readonly number[], std = 0.5 / Math.sqrt(dims[0]!)): void {
    const tensorSeed = (hashString32(name) ^ Math.imul(this.seed, 0x9e3779b1)) >>> 0
    let next: () => number = gaussian(mulberry32(tensorSeed))
    this.specs.push({
      name,
      dims,
      type: storageType(name, dims, this.quant),
      fill: (out, firstElement) => {
        if (firstElement === 0) next = gaussian(mulberry32(tensorSeed)) // restartable, still deterministic
        for (let i = 0; i < out.length; i++) out[i] = next() * std
      },
    })
  }

  /** Constant-valued tensor (RMS norm weights are 1). */
  constant(name: string, dims: readonly number[], value: number): void {
    this.specs.push({
      name,
      dims,
      type: storageType(name, dims, this.quant),
      fill: (out) => out.fill(value),
    })
  }
}
