/**
 * Model/variant combinations known to abort llama.cpp, measured with node-llama-cpp 3.21.1 and 3.22.1
 * (shared/notes/cpu-variants.md): with the sapphirerapids variant, weights go to an AMX buffer and
 * context creation for deepseek2 stored as F16 or Q8_0 hits GGML_ASSERT(*cur_backend_id != -1).
 * Only advice for `doctor` and error messages: choosing a variant always rests on a real probe.
 */
export interface KnownIssue {
  variant: string
  architecture: string
  /** GGUF general.file_type names. */
  storageTypes: string[]
  what: string
}

export const KNOWN_ISSUES: KnownIssue[] = [
  {
    variant: 'sapphirerapids',
    architecture: 'deepseek2',
    storageTypes: ['F16', 'Q8_0'],
    what: 'context creation aborts: GGML_ASSERT(*cur_backend_id != -1) (weights in the AMX buffer)',
  },
]

export function knownIssue(variant: string, architecture: string | undefined, storageType: string | undefined): KnownIssue | undefined {
  return KNOWN_ISSUES.find((i) => i.variant === variant && i.architecture === architecture && storageType !== undefined && i.storageTypes.includes(storageType))
}
