/**
 * inspect's compute probe: how fast llama.cpp's kernels multiply each weight type the planned model
 * uses, on this machine, one thread. The planned model's tensor data is never read (it may be 700 GB);
 * small synthetic models of the same types are timed instead, in a child process (llama.cpp aborts
 * on some model/variant pairs, and a process can load only one llama.cpp binding).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runChildScript } from '../child-script.js'
import { readCpuInfo } from '../cpu/cpu-info.js'
import { knownIssue } from '../cpu/known-issues.js'
import { findPrebuiltBins, variantFolder, type VariantFolder } from '../cpu/prebuilt-bins.js'
import { rankVariants } from '../cpu/variants.js'
import { MIN_TYPE_SHARE, type ComputeProbeResult } from './compute-model.js'
import type { WeightStats } from './model-stats.js'
import { cacheBudgetBytes, PROBE_QUANTS } from './probe-models.js'

export interface ComputeProbeRequest {
  folder: VariantFolder
  /** GGUF type names to time, the planned model's biggest first. */
  types: string[]
  /** The planned model's depth (the per-step overhead grows with it). */
  blocks: number
  cacheBudgetBytes: number
  /** Where the child writes its models. */
  dir: string
}

const CHILD = fileURLToPath(new URL('./compute-probe-child.ts', import.meta.url))

/** The matrix types of a model that the probe can time, biggest first; empty if it can time none. */
export function probeTypes(weights: Pick<WeightStats, 'matmulParamsByType'>): string[] {
  const entries = Object.entries(weights.matmulParamsByType)
  const total = entries.reduce((sum, [, params]) => sum + params, 0)
  return entries
    .filter(([type, params]) => PROBE_QUANTS[type] !== undefined && params >= MIN_TYPE_SHARE * total)
    .sort((a, b) => b[1] - a[1])
    .map(([type]) => type)
}

/**
 * Times the kernels for the model's weight types (about 1-2 s). `variant` 'auto' takes the best variant
 * this CPU runs that is not known to fail on the model (serve's first choice, without its probe).
 */
export async function measureCompute(opts: { weights: WeightStats; storageType: string | undefined; variant?: string; timeoutMs?: number }): Promise<ComputeProbeResult> {
  const types = probeTypes(opts.weights)
  if (types.length === 0) throw new Error(`no matrix type the probe can time (it writes ${Object.keys(PROBE_QUANTS).join(', ')})`)
  const bins = await findPrebuiltBins()
  const requested = opts.variant ?? 'auto'
  const variant =
    requested !== 'auto'
      ? requested
      : rankVariants(bins.variants, readCpuInfo().flags).find((v) => !knownIssue(v, opts.weights.architecture, opts.storageType)) ?? 'all'
  const dir = await mkdtemp(join(tmpdir(), 'node-host-compute-probe-'))
  try {
    const request: ComputeProbeRequest = { folder: variantFolder(bins, variant), types, blocks: opts.weights.blockCount, cacheBudgetBytes: cacheBudgetBytes(lastLevelCacheBytes()), dir }
    return await runChild(request, opts.timeoutMs ?? 120_000)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function runChild(request: ComputeProbeRequest, timeoutMs: number): Promise<ComputeProbeResult> {
  const { code, signal, stdout, stderr } = await runChildScript(CHILD, request, { timeoutMs, stderrTailChars: 4000 })
  const line = stdout.trim().split('\n').at(-1) ?? ''
  try {
    if (code === 0) return JSON.parse(line) as ComputeProbeResult
  } catch {
    // reported below
  }
  const said = stderr.trim().split('\n').at(-1)
  throw new Error(`compute probe failed (${signal ? `killed by ${signal}` : `exit code ${code}`})${said ? `: ${said}` : ''}`)
}

/** The largest CPU cache, from Linux's sysfs; undefined elsewhere. */
function lastLevelCacheBytes(): number | undefined {
  const base = '/sys/devices/system/cpu/cpu0/cache'
  try {
    let best: { level: number; bytes: number } | undefined
    for (const index of readdirSync(base).filter((name) => name.startsWith('index'))) {
      const level = Number(readFileSync(join(base, index, 'level'), 'utf8'))
      const size = /^(\d+)([KMG]?)/.exec(readFileSync(join(base, index, 'size'), 'utf8').trim())
      if (!size) continue
      const bytes = Number(size[1]) * ({ '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 } as Record<string, number>)[size[2]!]!
      if (!best || level > best.level) best = { level, bytes }
    }
    return best?.bytes
  } catch {
    return undefined
  }
}
