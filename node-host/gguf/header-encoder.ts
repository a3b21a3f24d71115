import { GGUF_MAGIC, GGUF_VERSION, GgufValueType } from './constants.js'
import type { GgufMetadataEntry, GgufScalar, GgufScalarType } from './metadata.js'

/** Growable little-endian byte sink for the (small) GGUF header. */
export class HeaderEncoder {
  private buffer = Buffer.alloc(64 * 1024)
  private length = 0

  get byteLength(): number {
    return this.length
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length)
  }

  private reserve(extraBytes: number): void {
    if (this.length + extraBytes <= this.buffer.length) return
    const grown = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + extraBytes))
    this.buffer.copy(grown, 0, 0, this.length)
    this.buffer = grown
  }

  u32(value: number): void {
    this.reserve(4)
    this.length = this.buffer.writeUInt32LE(value, this.length)
  }

  u64(value: number | bigint): void {
    this.reserve(8)
    this.length = this.buffer.writeBigUInt64LE(BigInt(value), this.length)
  }

  string(text: string): void {
    const encoded = Buffer.from(text, 'utf8')
    this.u64(encoded.length)
    this.reserve(encoded.length)
    this.length += encoded.copy(this.buffer, this.length)
  }

  zeros(count: number): void {
    this.reserve(count)
    this.buffer.fill(0, this.length, this.length + count)
    this.length += count
  }

  scalar(type: GgufScalarType, value: GgufScalar): void {
    this.reserve(8)
    const b = this.buffer
    const at = this.length
    switch (type) {
      case GgufValueType.UINT8: this.length = b.writeUInt8(Number(value), at); break
      case GgufValueType.INT8: this.length = b.writeInt8(Number(value), at); break
      case GgufValueType.UINT16: this.length = b.writeUInt16LE(Number(value), at); break
      case GgufValueType.INT16: this.length = b.writeInt16LE(Number(value), at); break
      case GgufValueType.UINT32: this.length = b.writeUInt32LE(Number(value), at); break
      case GgufValueType.INT32: this.length = b.writeInt32LE(Number(value), at); break
      case GgufValueType.FLOAT32: this.length = b.writeFloatLE(Number(value), at); break
      case GgufValueType.BOOL: this.length = b.writeUInt8(value ? 1 : 0, at); break
      case GgufValueType.UINT64: this.length = b.writeBigUInt64LE(BigInt(value), at); break
      case GgufValueType.INT64: this.length = b.writeBigInt64LE(BigInt(value), at); break
      case GgufValueType.FLOAT64: this.length = b.writeDoubleLE(Number(value), at); break
      case GgufValueType.STRING: this.string(String(value)); break
      default: throw new Error(`unsupported GGUF value type ${String(type)}`)
    }
  }

  metadata([key, entry]: GgufMetadataEntry): void {
    this.string(key)
    this.u32(entry.type)
    if (entry.type !== GgufValueType.ARRAY) {
      this.scalar(entry.type, entry.value)
      return
    }
    this.u32(entry.itemType)
    this.u64(entry.values.length)
    for (const item of entry.values) this.scalar(entry.itemType, item)
  }

  fileStart(tensorCount: number, metadataCount: number): void {
    this.u32(GGUF_MAGIC)
    this.u32(GGUF_VERSION)
    this.u64(tensorCount)
    this.u64(metadataCount)
  }
}
