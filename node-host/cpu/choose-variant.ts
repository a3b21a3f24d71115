/**
 * Which llama.cpp CPU variant serves a model: the best one this CPU runs that is proven (by a probe in
 * a child process, or a remembered verdict) to load the model, create its context and decode. `auto`
 * tries the best, the next best, then the portable one; a named variant is used or refused, never
 * swapped. Failures are one line: the model, the variant(s), what failed, and what to do.
 */
import type { Logger } from '../log.js'
import { readCpuInfo, type CpuInfo } from './cpu-info.js'
import { findPrebuiltBins, nodeHostCacheDir, variantFolder, type PrebuiltBins, type VariantFolder } from './prebuilt-bins.js'
import { probeVariant, type ProbeResult } from './probe.js'
import { missingFeatures, PORTABLE_VARIANT, rankVariants } from './variants.js'
import { VerdictStore, type Verdict, type VerdictSubject } from './verdicts.js'

export interface ChooseVariantOptions {
  modelPath: string
  /** As served; named in errors. */
  modelName: string
  /** 'auto' or a variant name (--cpu-variant / NODE_HOST_CPU_VARIANT). */
  requested: string
  sequences: number
  contextSize: number
  threads: number
  /** The variant this process already loaded, if any: it is the only one it can use. */
  loaded?: string
  cacheDir?: string
  cpu?: CpuInfo
  /** Probe again even where a verdict is remembered (doctor --probe). */
  fresh?: boolean
  log: Logger
}

export interface VariantChoice {
  variant: string
  folder: VariantFolder
  /** Why this one, in words (for logs, /health and doctor). */
  reason: string
  /** The probes this choice ran; empty when remembered verdicts decided. */
  probes: ProbeResult[]
}

/** A model that no allowed variant can serve; the message is the whole story in one line. */
export class CpuVariantError extends Error {
  override name = 'CpuVariantError'
}

const AUTO_PROBES = 3

export async function chooseCpuVariant(opts: ChooseVariantOptions): Promise<VariantChoice> {
  const bins = await findPrebuiltBins()
  const cpu = opts.cpu ?? readCpuInfo()
  const cacheDir = opts.cacheDir ?? nodeHostCacheDir()
  const store = VerdictStore.in(cacheDir)
  const subject: VerdictSubject = { modelPath: opts.modelPath, cpuModel: cpu.modelName, cpuFlags: cpu.flags, buildVersion: bins.packageVersion }
  const candidates = candidateVariants(bins, cpu, opts)
  const failures: { variant: string; verdict: Extract<Verdict, { ok: false }>; remembered: boolean }[] = []
  const probes: ProbeResult[] = []

  for (const variant of candidates) {
    const folder = variantFolder(bins, variant, cacheDir)
    let verdict = opts.fresh ? undefined : store.get(subject, variant)
    const remembered = verdict !== undefined
    if (!verdict) {
      opts.log.info('cpu_variant.probe', { model: opts.modelName, variant })
      const result = await probeVariant({ folder, modelPath: opts.modelPath, sequences: opts.sequences, contextSize: opts.contextSize, threads: opts.threads })
      probes.push(result)
      opts.log.info('cpu_variant.probed', { model: opts.modelName, variant, outcome: result.outcome, ms: result.ms, ...(result.outcome === 'ok' ? {} : { stage: result.stage, reason: result.reason }) })
      if (result.outcome === 'error') {
        // Not the variant's doing (a missing file, a bad header): every variant would say the same.
        throw new CpuVariantError(`model "${opts.modelName}" failed at ${result.stage}: ${result.reason}`)
      }
      verdict = result.outcome === 'ok' ? { ok: true, variant, atMs: Date.now() } : { ok: false, variant, stage: result.stage, reason: result.reason, atMs: Date.now() }
      store.set(subject, verdict)
    }
    if (verdict.ok) return { variant, folder, reason: choiceReason(opts, candidates, variant, failures), probes }
    failures.push({ variant, verdict, remembered })
    opts.log.warn('cpu_variant.unusable', { model: opts.modelName, variant, stage: verdict.stage, reason: verdict.reason, remembered })
  }
  throw new CpuVariantError(failureMessage(opts, bins, failures))
}

/**
 * One variant for a process that loads several models (a process loads one binding): the first in
 * `auto` order proven, for every model, to run it. Each model is probed at most once per variant.
 */
export async function chooseSharedCpuVariant(opts: Omit<ChooseVariantOptions, 'modelPath' | 'modelName' | 'requested' | 'loaded'> & { models: { path: string; name: string }[] }): Promise<VariantChoice> {
  const bins = await findPrebuiltBins()
  const cpu = opts.cpu ?? readCpuInfo()
  const failures: string[] = []
  for (const variant of candidateVariants(bins, cpu, { requested: 'auto' })) {
    const probes: ProbeResult[] = []
    try {
      for (const model of opts.models) {
        const choice = await chooseCpuVariant({ ...opts, cpu, modelPath: model.path, modelName: model.name, requested: variant })
        probes.push(...choice.probes)
      }
      return { variant, folder: variantFolder(bins, variant, opts.cacheDir ?? nodeHostCacheDir()), reason: `runs all ${opts.models.length} models`, probes }
    } catch (err) {
      if (!(err instanceof CpuVariantError)) throw err
      failures.push(err.message)
    }
  }
  throw new CpuVariantError(`no CPU variant runs every model: ${failures.join(' | ')}`)
}

/** The variants to try, in order. */
export function candidateVariants(bins: PrebuiltBins, cpu: CpuInfo, opts: Pick<ChooseVariantOptions, 'requested' | 'loaded'>): string[] {
  if (opts.loaded) return [opts.loaded]
  if (bins.variants.length === 0) return ['all']
  const ranked = rankVariants(bins.variants, cpu.flags)
  if (opts.requested !== 'auto') {
    const name = opts.requested
    if (!bins.variants.includes(name)) throw new CpuVariantError(`unknown CPU variant "${name}"; this llama.cpp build (node-llama-cpp ${bins.packageVersion}) has: auto, ${bins.variants.join(', ')}`)
    if (ranked.length > 0 && !ranked.includes(name)) {
      throw new CpuVariantError(`CPU variant ${name} cannot run on this CPU (${cpu.modelName}: no ${missingFeatures(name, cpu.flags).join(', ')}). Remedy: --cpu-variant auto, or one of: ${ranked.join(', ')}`)
    }
    return [name]
  }
  // Names this file does not rank (not x86): let ggml pick among them.
  if (ranked.length === 0) return ['all']
  const order = ranked.slice(0, AUTO_PROBES - 1)
  const portable = ranked.includes(PORTABLE_VARIANT) ? PORTABLE_VARIANT : ranked.at(-1)!
  if (!order.includes(portable)) order.push(portable)
  return order
}

function choiceReason(opts: ChooseVariantOptions, candidates: string[], variant: string, failures: { variant: string; verdict: { stage: string; reason: string } }[]): string {
  if (opts.loaded) return `already loaded by this process`
  if (opts.requested !== 'auto') return `forced (--cpu-variant ${variant})`
  if (variant === 'all') return 'chosen by ggml (the only build of this platform)'
  if (failures.length === 0) return candidates[0] === variant ? 'the best variant this CPU runs' : 'the best proven variant'
  const why = failures.map((f) => `${f.variant} failed at ${f.verdict.stage}`).join('; ')
  return `${why} with this model; ${variant} works`
}

function failureMessage(opts: ChooseVariantOptions, bins: PrebuiltBins, failures: { variant: string; verdict: Extract<Verdict, { ok: false }>; remembered: boolean }[]): string {
  const last = failures.at(-1)!
  const remembered = failures.every((f) => f.remembered) ? ' (remembered verdict; delete the cache entry or run `node-host doctor --model FILE --probe` to try again)' : ''
  const model = `model "${opts.modelName}"`
  if (opts.loaded) {
    return `${model} cannot run with llama.cpp CPU variant ${last.variant}, which this process already loaded: ${last.verdict.stage} failed: ${last.verdict.reason}${remembered}. Remedy: serve it from its own node-host process (node-host serve --model ...)`
  }
  if (failures.length === 1 && opts.requested !== 'auto') {
    return `${model} cannot run with llama.cpp CPU variant ${last.variant}: ${last.verdict.stage} failed: ${last.verdict.reason}${remembered}. Remedy: --cpu-variant auto (NODE_HOST_CPU_VARIANT=auto) lets node-host pick a variant that works`
  }
  const tried = failures.map((f) => `${f.variant} at ${f.verdict.stage}`).join(', ')
  return `${model} aborted llama.cpp with every CPU variant tried (${tried}): ${last.verdict.reason}${remembered}. Remedy: the file is damaged or not a model this llama.cpp build (node-llama-cpp ${bins.packageVersion}) can run; check it with node-host doctor --model FILE`
}
