/**
 * llama.cpp's x86 CPU backend variants (ggml/src/CMakeLists.txt, GGML_CPU_ALL_VARIANTS) and how ggml
 * scores them (ggml/src/ggml-cpu/arch/x86/cpu-feats.cpp): a variant scores 0 when the CPU lacks one of
 * its features, else 1 plus one bit per feature, so the variant with the most usable features wins.
 * ggml loads the best-scoring `libggml-cpu-<variant>.so` in the folder it is given.
 */

type Feature = 'FMA' | 'F16C' | 'SSE42' | 'BMI2' | 'AVX' | 'AVX2' | 'AVX_VNNI' | 'AVX512' | 'AVX512_VBMI' | 'AVX512_BF16' | 'AVX512_VNNI' | 'AMX_INT8'

/** The bit each feature adds to the score, and the /proc/cpuinfo flags it needs. */
const FEATURES: Record<Feature, { bit: number; flags: string[] }> = {
  FMA: { bit: 1, flags: ['fma'] },
  F16C: { bit: 1 << 1, flags: ['f16c'] },
  SSE42: { bit: 1 << 2, flags: ['sse4_2'] },
  BMI2: { bit: 1 << 3, flags: ['bmi2'] },
  AVX: { bit: 1 << 4, flags: ['avx'] },
  AVX2: { bit: 1 << 5, flags: ['avx2'] },
  AVX_VNNI: { bit: 1 << 6, flags: ['avx_vnni'] },
  AVX512: { bit: 1 << 7, flags: ['avx512f', 'avx512cd', 'avx512vl', 'avx512dq', 'avx512bw'] },
  AVX512_VBMI: { bit: 1 << 8, flags: ['avx512vbmi'] },
  AVX512_BF16: { bit: 1 << 9, flags: ['avx512_bf16'] },
  AVX512_VNNI: { bit: 1 << 10, flags: ['avx512_vnni'] },
  AMX_INT8: { bit: 1 << 11, flags: ['amx_int8'] },
}

const BASE: Feature[] = ['SSE42', 'AVX', 'F16C', 'FMA', 'AVX2', 'BMI2']
const AVX512: Feature[] = [...BASE, 'AVX512']

/** Each variant's scored features (AMX_TILE is compiled in but not scored; AMX_INT8 implies it here). */
export const X86_VARIANTS: Record<string, Feature[]> = {
  x64: [],
  sse42: ['SSE42'],
  sandybridge: ['SSE42', 'AVX'],
  ivybridge: ['SSE42', 'AVX', 'F16C'],
  piledriver: ['SSE42', 'AVX', 'F16C', 'FMA'],
  haswell: BASE,
  skylakex: AVX512,
  cannonlake: [...AVX512, 'AVX512_VBMI'],
  cascadelake: [...AVX512, 'AVX512_VNNI'],
  icelake: [...AVX512, 'AVX512_VBMI', 'AVX512_VNNI'],
  cooperlake: [...AVX512, 'AVX512_VNNI', 'AVX512_BF16'],
  zen4: [...AVX512, 'AVX512_VBMI', 'AVX512_VNNI', 'AVX512_BF16'],
  alderlake: [...BASE, 'AVX_VNNI'],
  sapphirerapids: [...AVX512, 'AVX512_VBMI', 'AVX512_VNNI', 'AVX512_BF16', 'AMX_INT8'],
}

/** The variant every x86-64 CPU runs: plain SSE2, nothing else assumed. */
export const PORTABLE_VARIANT = 'x64'

/** ggml's score for this variant on a CPU with these flags: 0 means it cannot run here. */
export function variantScore(variant: string, flags: ReadonlySet<string>): number {
  const features = X86_VARIANTS[variant]
  if (!features) return 0
  let score = 1
  for (const feature of features) {
    const { bit, flags: needs } = FEATURES[feature]
    if (!needs.every((f) => flags.has(f))) return 0
    score += bit
  }
  return score
}

/** The features a variant needs that this CPU lacks (for error messages). */
export function missingFeatures(variant: string, flags: ReadonlySet<string>): string[] {
  return (X86_VARIANTS[variant] ?? []).filter((feature) => !FEATURES[feature].flags.every((f) => flags.has(f)))
}

/** The variants in `available` this CPU can run, best first, as ggml would prefer them. */
export function rankVariants(available: readonly string[], flags: ReadonlySet<string>): string[] {
  return available
    .map((variant) => ({ variant, score: variantScore(variant, flags) }))
    .filter((v) => v.score > 0)
    .sort((a, b) => b.score - a.score || a.variant.localeCompare(b.variant))
    .map((v) => v.variant)
}
