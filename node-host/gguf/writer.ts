import { open, rename, rm } from 'node:fs/promises'
import { GGUF_DEFAULT_ALIGNMENT } from './constants.js'
import { encodedBytes, encodeValues, Q8_0_BLOCK_ELEMENTS, type WritableTensorType } from './encode.js'
import { HeaderEncoder } from './header-encoder.js'
import { kv, type GgufMetadataEntry } from './metadata.js'

export interface GgufTensorSpec {
  name: string
  /** ggml order: dims[0] (ne0) is the innermost, contiguous dimension. */
  dims: readonly number[]
  type: WritableTensorType
  /** Fill `out` with the values of elements [firstElement, firstElement + out.length). */
  fill: (out: Float32Array, firstElement: number) => void
}

export interface GgufWriteInput {
  metadata: readonly GgufMetadataEntry[]
  tensors: readonly GgufTensorSpec[]
  /** Data alignment in bytes; written as general.alignment when not the default 32. */
  alignment?: number
}

export interface GgufWriteResult {
  path: string
  fileBytes: number
  dataOffsetBytes: number
}

// Values are generated and encoded in chunks this big, so memory stays flat for any model size.
const CHUNK_ELEMENTS = Q8_0_BLOCK_ELEMENTS * 32 * 1024

const alignUp = (value: number, alignment: number): number => Math.ceil(value / alignment) * alignment

export function tensorElementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1)
}

/**
 * Write a GGUF v3 file at `path`, streaming tensor data chunk by chunk.
 * The caller decides on atomicity (see writeGgufAtomic).
 */
export async function writeGguf(path: string, input: GgufWriteInput): Promise<GgufWriteResult> {
  const alignment = input.alignment ?? GGUF_DEFAULT_ALIGNMENT
  if (alignment <= 0 || (alignment & (alignment - 1)) !== 0) throw new Error(`alignment ${alignment} is not a power of 2`)
  const metadata = [...input.metadata]
  if (alignment !== GGUF_DEFAULT_ALIGNMENT && !metadata.some(([key]) => key === 'general.alignment')) {
    metadata.push(['general.alignment', kv.u32(alignment)])
  }
  assertUniqueNames(metadata.map(([key]) => key), 'metadata key')
  assertUniqueNames(input.tensors.map((tensor) => tensor.name), 'tensor name')

  const header = new HeaderEncoder()
  header.fileStart(input.tensors.length, metadata.length)
  for (const entry of metadata) header.metadata(entry)

  let dataBytes = 0
  for (const tensor of input.tensors) {
    if (tensor.dims.length < 1 || tensor.dims.length > 4) throw new Error(`${tensor.name}: 1-4 dims required`)
    header.string(tensor.name)
    header.u32(tensor.dims.length)
    for (const dim of tensor.dims) header.u64(dim)
    header.u32(tensor.type)
    header.u64(dataBytes)
    dataBytes += alignUp(encodedBytes(tensor.type, tensorElementCount(tensor.dims)), alignment)
  }
  header.zeros(alignUp(header.byteLength, alignment) - header.byteLength)
  const dataOffsetBytes = header.byteLength

  const file = await open(path, 'w')
  try {
    await file.write(header.bytes())
    const values = new Float32Array(CHUNK_ELEMENTS)
    const encoded = new Uint8Array(CHUNK_ELEMENTS * 4)
    const padding = new Uint8Array(alignment)
    for (const tensor of input.tensors) {
      const total = tensorElementCount(tensor.dims)
      let tensorBytes = 0
      for (let first = 0; first < total; first += CHUNK_ELEMENTS) {
        const chunk = values.subarray(0, Math.min(CHUNK_ELEMENTS, total - first))
        tensor.fill(chunk, first)
        const length = encodeValues(tensor.type, chunk, encoded)
        await file.write(encoded, 0, length)
        tensorBytes += length
      }
      const pad = alignUp(tensorBytes, alignment) - tensorBytes
      if (pad > 0) await file.write(padding, 0, pad)
    }
  } finally {
    await file.close()
  }
  return { path, fileBytes: dataOffsetBytes + dataBytes, dataOffsetBytes }
}

/** Write to a unique temp file next to `path`, then rename, so readers never see a partial file. */
export async function writeGgufAtomic(path: string, input: GgufWriteInput): Promise<GgufWriteResult> {
  const temporaryPath = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    const result = await writeGguf(temporaryPath, input)
    await rename(temporaryPath, path)
    return { ...result, path }
  } catch (error) {
    await rm(temporaryPath, { force: true })
    throw error
  }
}

function assertUniqueNames(names: string[], what: string): void {
  const seen = new Set<string>()
  for (const name of names) {
    if (seen.has(name)) throw new Error(`duplicate ${what}: ${name}`)
    seen.add(name)
  }
}
