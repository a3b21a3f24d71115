/** The two facts of a GGUF that decide whether a CPU variant is known to trip on it. */
import type { GgufHeader } from '../gguf/reader.js'

export interface ModelFacts {
  architecture: string | undefined
  /** The ggml type holding most of the weight bytes (F16, Q8_0, Q4_K, …). */
  storageType: string | undefined
}

export function modelFacts(header: Pick<GgufHeader, 'metadata' | 'tensors'>): ModelFacts {
  const arch = header.metadata['general.architecture']
  const bytesByType = new Map<string, number>()
  for (const t of header.tensors) {
    if (t.dims.length < 2 || !Number.isFinite(t.byteSize)) continue
    bytesByType.set(t.typeName, (bytesByType.get(t.typeName) ?? 0) + t.byteSize)
  }
  const storageType = [...bytesByType].sort((a, b) => b[1] - a[1])[0]?.[0]
  return { architecture: typeof arch === 'string' ? arch : undefined, storageType }
}
