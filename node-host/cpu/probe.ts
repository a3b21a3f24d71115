/**
 * Proves that a model loads, gets a context and decodes with one CPU variant, in a child process:
 * llama.cpp reports some failures by abort(), which no JavaScript catch survives.
 */
import { fileURLToPath } from 'node:url'
import { runChildScript } from '../child-script.js'
import type { VariantFolder } from './prebuilt-bins.js'

export type ProbeStage = 'binding' | 'model' | 'context' | 'decode' | 'done' | 'error'

export interface ProbeRequest {
  folder: VariantFolder
  modelPath: string
  sequences: number
  contextSize: number
  threads: number
}

export type ProbeResult =
  | { outcome: 'ok'; variant: string; systemInfo: string; ms: number }
  /** The child died natively (abort, segfault) or the variant's library could not serve. */
  | { outcome: 'aborted'; variant: string; stage: ProbeFailStage; reason: string; ms: number }
  /** A JavaScript error: the model or settings are wrong whatever the variant. */
  | { outcome: 'error'; variant: string; stage: ProbeFailStage; reason: string; ms: number }

/** Where it failed: loading the binding, the model, creating the context, or decoding. */
export type ProbeFailStage = 'binding' | 'model load' | 'context creation' | 'decode'

const NEXT_STAGE: Record<string, ProbeFailStage> = { none: 'binding', binding: 'model load', model: 'context creation', context: 'decode', decode: 'decode' }
const CHILD = fileURLToPath(new URL('./probe-child.ts', import.meta.url))

export async function probeVariant(request: ProbeRequest, opts: { timeoutMs?: number } = {}): Promise<ProbeResult> {
  const startedAt = performance.now()
  const variant = request.folder.variant
  const { code, signal, stdout, stderr } = await runChildScript(CHILD, request, { timeoutMs: opts.timeoutMs ?? 30 * 60_000, stderrTailChars: 16_000 })
  const ms = Math.round(performance.now() - startedAt)
  const lines = stdout.split('\n').flatMap((l) => { try { return [JSON.parse(l) as { stage: ProbeStage; message?: string; systemInfo?: string; loaded?: string[] }] } catch { return [] } })
  const last = lines.at(-1)
  const binding = lines.find((l) => l.stage === 'binding')
  if (last?.stage === 'done' && code === 0) return { outcome: 'ok', variant, systemInfo: binding?.systemInfo ?? '', ms }
  const stage = NEXT_STAGE[lines.filter((l) => l.stage !== 'error').at(-1)?.stage ?? 'none'] ?? 'binding'
  if (last?.stage === 'error') {
    // No CPU library at all means the variant cannot run on this CPU: the variant's fault.
    const noCpu = binding !== undefined && (binding.loaded ?? []).length === 0 && variant !== 'all'
    return { outcome: noCpu ? 'aborted' : 'error', variant, stage, reason: noCpu ? `the ${variant} library does not run on this CPU` : last.message ?? 'unknown error', ms }
  }
  return { outcome: 'aborted', variant, stage, reason: nativeReason(stderr, code, signal), ms }
}

/** The line that says why: ggml's assert, else the last line, else the exit status. */
export function nativeReason(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean)
  const assert = lines.find((l) => /GGML_ASSERT|GGML_ABORT|error:|terminate called/.test(l))
  const status = signal ? `killed by ${signal}` : `exit code ${code}`
  const said = assert ?? lines.at(-1)
  // ggml prefixes its asserts with the build machine's source path: keep file:line and the message.
  return said ? `${said.replace(/^.*\/(ggml\/|src\/)/, '$1')} (${status})` : status
}
