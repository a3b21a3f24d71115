import type { GgufValue } from '../gguf/reader.js'

export type GgufMetadata = Record<string, GgufValue>

export function architectureOf(metadata: GgufMetadata): string {
  const arch = metadata['general.architecture']
  if (typeof arch !== 'string') throw new Error('general.architecture missing')
  return arch
}

/** A numeric hparam `<arch>.<key>`; arrays (per-layer values) are returned as-is. */
export function archNumbers(metadata: GgufMetadata, key: string): number | number[] | undefined {
  const value = metadata[`${architectureOf(metadata)}.${key}`]
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  if (Array.isArray(value) && value.every((item) => typeof item === 'number')) return value as number[]
  return undefined
}

/** Per-layer value of a scalar-or-array hparam. */
export function layerValue(value: number | number[] | undefined, layer: number): number | undefined {
  return Array.isArray(value) ? value[layer] : value
}

export function archNumber(metadata: GgufMetadata, key: string): number | undefined {
  const value = archNumbers(metadata, key)
  if (Array.isArray(value)) return value.length ? Math.max(...value) : undefined
  return value
}
