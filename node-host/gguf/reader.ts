import { open } from 'node:fs/promises'
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufValueType, ggmlTypeTraits } from './constants.js'

export type GgufValue = number | bigint | boolean | string | GgufValue[]

export interface GgufTensorInfo {
  name: string
  /** ggml order: dims[0] is the innermost dimension. */
  dims: number[]
  type: number
  typeName: string
  /** Offset from the start of the data section. */
  offsetBytes: number
  elementCount: number
  /** NaN for ggml types this reader doesn't know. */
  byteSize: number
}

export interface GgufHeader {
  version: number
  metadata: Record<string, GgufValue>
  tensors: GgufTensorInfo[]
  alignment: number
  /** Absolute file offset where tensor data starts. */
  dataOffsetBytes: number
}

class NeedMoreBytes extends Error {}

const INITIAL_READ_BYTES = 1 << 20
const MAX_HEADER_BYTES = 1 << 30 // real vocabularies make headers a few MB; this is a sanity cap

/** Read a GGUF file's metadata and tensor infos without touching tensor data. */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  const file = await open(path, 'r')
  try {
    const fileBytes = (await file.stat()).size
    for (let want = INITIAL_READ_BYTES; ; want *= 4) {
      const length = Math.min(want, fileBytes)
      const buffer = Buffer.alloc(length)
      const { bytesRead } = await file.read(buffer, 0, length, 0)
      try {
        return parseGgufHeader(buffer.subarray(0, bytesRead))
      } catch (error) {
        if (!(error instanceof NeedMoreBytes)) throw error
        if (length >= fileBytes) throw new Error(`${path}: truncated GGUF header`)
        if (length >= MAX_HEADER_BYTES) throw new Error(`${path}: GGUF header larger than ${MAX_HEADER_BYTES} bytes`)
      }
    }
  } finally {
    await file.close()
  }
}

/** Parse a header from the start of a GGUF file held in memory (throws if `bytes` is too short). */
export function parseGgufHeader(bytes: Buffer): GgufHeader {
  const cursor = new Cursor(bytes)
  if (cursor.u32() !== GGUF_MAGIC) throw new Error('not a GGUF file (bad magic)')
  const version = cursor.u32()
  if (version !== 2 && version !== 3) throw new Error(`unsupported GGUF version ${version}`)
  const tensorCount = cursor.u64Number()
  const metadataCount = cursor.u64Number()

  const metadata: Record<string, GgufValue> = {}
  for (let i = 0; i < metadataCount; i++) {
    const key = cursor.string()
    metadata[key] = cursor.value(cursor.u32())
  }

  const alignmentValue = metadata['general.alignment']
  const alignment = typeof alignmentValue === 'number' ? alignmentValue : GGUF_DEFAULT_ALIGNMENT

  const tensors: GgufTensorInfo[] = []
  for (let i = 0; i < tensorCount; i++) {
    const name = cursor.string()
    const dimCount = cursor.u32()
    const dims: number[] = []
    for (let d = 0; d < dimCount; d++) dims.push(cursor.u64Number())
    const type = cursor.u32()
    const offsetBytes = cursor.u64Number()
    const elementCount = dims.reduce((product, dim) => product * dim, 1)
    const traits = ggmlTypeTraits(type)
    tensors.push({
      name,
      dims,
      type,
      typeName: traits?.name ?? `type${type}`,
      offsetBytes,
      elementCount,
      byteSize: traits ? (elementCount / traits.blockElements) * traits.blockBytes : NaN,
    })
  }
  const dataOffsetBytes = Math.ceil(cursor.position / alignment) * alignment
  return { version, metadata, tensors, alignment, dataOffsetBytes }
}

class Cursor {
  position = 0
  constructor(private readonly bytes: Buffer) {}

  private take(count: number): number {
    if (this.position + count > this.bytes.length) throw new NeedMoreBytes()
    const at = this.position
    this.position += count
    return at
  }

  u32(): number {
    return this.bytes.readUInt32LE(this.take(4))
  }

  u64Number(): number {
    const value = this.bytes.readBigUInt64LE(this.take(8))
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`u64 ${value} too large`)
    return Number(value)
  }

  string(): string {
    const length = this.u64Number()
    const at = this.take(length)
    return this.bytes.toString('utf8', at, at + length)
  }

  value(type: number): GgufValue {
    const b = this.bytes
    switch (type) {
      case GgufValueType.UINT8: return b.readUInt8(this.take(1))
      case GgufValueType.INT8: return b.readInt8(this.take(1))
      case GgufValueType.UINT16: return b.readUInt16LE(this.take(2))
      case GgufValueType.INT16: return b.readInt16LE(this.take(2))
      case GgufValueType.UINT32: return b.readUInt32LE(this.take(4))
      case GgufValueType.INT32: return b.readInt32LE(this.take(4))
      case GgufValueType.FLOAT32: return b.readFloatLE(this.take(4))
      case GgufValueType.BOOL: return b.readUInt8(this.take(1)) !== 0
      case GgufValueType.STRING: return this.string()
      case GgufValueType.UINT64: return safeNumber(b.readBigUInt64LE(this.take(8)))
      case GgufValueType.INT64: return safeNumber(b.readBigInt64LE(this.take(8)))
      case GgufValueType.FLOAT64: return b.readDoubleLE(this.take(8))
      case GgufValueType.ARRAY: {
        const itemType = this.u32()
        const length = this.u64Number()
        const items: GgufValue[] = new Array(length)
        for (let i = 0; i < length; i++) items[i] = this.value(itemType)
        return items
      }
      default:
        throw new Error(`unknown GGUF value type ${type} at byte ${this.position}`)
    }
  }
}

/** 64-bit integers become numbers when exact, else stay bigint. */
function safeNumber(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value
}
