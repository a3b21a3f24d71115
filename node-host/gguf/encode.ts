import { GgmlType } from './constants.js'
import { float32ToFloat16Bits } from './fp16.js'

export type WritableTensorType = typeof GgmlType.F32 | typeof GgmlType.F16 | typeof GgmlType.Q8_0

export const Q8_0_BLOCK_ELEMENTS = 32
const Q8_0_BLOCK_BYTES = 34

/** Encoded byte length of `elementCount` float values in `type`. */
export function encodedBytes(type: WritableTensorType, elementCount: number): number {
  if (type === GgmlType.F32) return elementCount * 4
  if (type === GgmlType.F16) return elementCount * 2
  if (elementCount % Q8_0_BLOCK_ELEMENTS !== 0) {
    throw new Error(`Q8_0 needs a multiple of 32 elements, got ${elementCount}`)
  }
  return (elementCount / Q8_0_BLOCK_ELEMENTS) * Q8_0_BLOCK_BYTES
}

/** Encode float values little-endian into `out` starting at byte 0; returns bytes written. */
export function encodeValues(type: WritableTensorType, values: Float32Array, out: Uint8Array): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  if (type === GgmlType.F32) {
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true)
    return values.length * 4
  }
  if (type === GgmlType.F16) {
    for (let i = 0; i < values.length; i++) view.setUint16(i * 2, float32ToFloat16Bits(values[i]!), true)
    return values.length * 2
  }
  return encodeQ8_0(values, view)
}

// Q8_0 block: f16 scale d = max|x|/127, then 32 int8 q = round(x/d) (as ggml's quantize_row_q8_0_ref).
function encodeQ8_0(values: Float32Array, view: DataView): number {
  const blocks = encodedBytes(GgmlType.Q8_0, values.length) / Q8_0_BLOCK_BYTES
  for (let block = 0; block < blocks; block++) {
    const start = block * Q8_0_BLOCK_ELEMENTS
    let absMax = 0
    for (let i = 0; i < Q8_0_BLOCK_ELEMENTS; i++) {
      const magnitude = Math.abs(values[start + i]!)
      if (magnitude > absMax) absMax = magnitude
    }
    const scale = absMax / 127
    const inverse = scale ? 1 / scale : 0
    const base = block * Q8_0_BLOCK_BYTES
    view.setUint16(base, float32ToFloat16Bits(scale), true)
    for (let i = 0; i < Q8_0_BLOCK_ELEMENTS; i++) view.setInt8(base + 2 + i, Math.round(values[start + i]! * inverse))
  }
  return blocks * Q8_0_BLOCK_BYTES
}
