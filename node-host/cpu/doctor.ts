/**
 * `node-host doctor`: what this box offers llama.cpp and what node-host will do with it: the CPU and
 * the features that matter, the CPU variants of the prebuilt llama.cpp ranked as ggml ranks them (and
 * the one ggml really loads), the variant `--cpu-variant` resolves to and why, and for a model whether
 * its layout and storage type are known to work with it (remembered probes, known issues, or a probe).
 */
import { parseArgs } from 'node:util'
import { readGgufHeader } from '../gguf/reader.js'
import { silentLogger } from '../log.js'
import { loadLlama, mappedCpuVariants } from '../engine/llama-binding.js'
import { candidateVariants, chooseCpuVariant, CpuVariantError } from './choose-variant.js'
import { featureSummary, readCpuInfo } from './cpu-info.js'
import { knownIssue } from './known-issues.js'
import { modelFacts, type ModelFacts } from './model-facts.js'
import { findPrebuiltBins, nodeHostCacheDir, variantFolder } from './prebuilt-bins.js'
import { missingFeatures, rankVariants, variantScore } from './variants.js'
import { VerdictStore, type Verdict } from './verdicts.js'

const USAGE = 'usage: node-host doctor [--model ./m.gguf] [--cpu-variant auto|NAME] [--probe] [--parallel 4] [--context 4096] [--threads N] [--json]'

export async function runDoctor(argv: string[], out: (line: string) => void): Promise<number> {
  let values
  try {
    values = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        'cpu-variant': { type: 'string' },
        probe: { type: 'boolean', default: false },
        parallel: { type: 'string', default: '4' },
        context: { type: 'string', default: '4096' },
        threads: { type: 'string', default: '1' },
        json: { type: 'boolean', default: false },
      },
    }).values
  } catch (err) {
    out(`error: ${(err as Error).message}\n${USAGE}`)
    return 2
  }
  const requested = values['cpu-variant'] ?? process.env.NODE_HOST_CPU_VARIANT ?? 'auto'
  const cpu = readCpuInfo()
  const bins = await findPrebuiltBins()
  const cacheDir = nodeHostCacheDir()
  const ranked = rankVariants(bins.variants, cpu.flags)
  const unrunnable = bins.variants.filter((v) => !ranked.includes(v))
  // Loading the binding runs no model, so it cannot abort: safe in this process.
  await loadLlama(variantFolder(bins, 'all', cacheDir), () => {})
  const ggmlLoads = mappedCpuVariants()

  let facts: ModelFacts | undefined
  let verdicts = new Map<string, Verdict>()
  let choice: { variant: string; reason: string } | { error: string } | undefined
  if (values.model) {
    try {
      facts = modelFacts(await readGgufHeader(values.model))
    } catch (err) {
      out(`error: cannot read ${values.model}: ${(err as Error).message}`)
      return 1
    }
    const subject = { modelPath: values.model, cpuModel: cpu.modelName, cpuFlags: cpu.flags, buildVersion: bins.packageVersion }
    if (values.probe) {
      choice = await chooseCpuVariant({
        modelPath: values.model,
        modelName: values.model,
        requested,
        sequences: Number(values.parallel),
        contextSize: Number(values.context),
        threads: Number(values.threads),
        cacheDir,
        cpu,
        fresh: true,
        log: silentLogger, // the report below says what the probes found
      }).catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }))
    }
    verdicts = VerdictStore.in(cacheDir).forModel(subject, bins.variants.length > 0 ? bins.variants : ['all'])
  }
  let candidates: string[] = []
  try {
    candidates = candidateVariants(bins, cpu, { requested })
  } catch (err) {
    if (err instanceof CpuVariantError) choice ??= { error: err.message }
    else throw err
  }
  // Without a probe: the first candidate not remembered as failing is what serve would try first.
  choice ??= (() => {
    const next = candidates.find((v) => verdicts.get(v)?.ok !== false)
    if (!next) return { error: 'every candidate variant is remembered as failing for this model; run with --probe to try again' }
    const proven = verdicts.get(next)?.ok === true
    return { variant: next, reason: requested !== 'auto' ? `forced (--cpu-variant ${next})` : `${next === candidates[0] ? 'the best variant this CPU runs' : 'the best not remembered as failing'}${values.model ? (proven ? ', proven with this model' : ', not yet proven with this model (serve probes it first)') : ''}` }
  })()

  const report = {
    cpu: { model: cpu.modelName, physical_cores: cpu.physicalCores, logical_cpus: cpu.logicalCpus, numa_nodes: cpu.numaNodes, features: featureSummary(cpu.flags), amx: cpu.flags.has('amx_int8') },
    llama_cpp: { node_llama_cpp: bins.packageVersion, bins: bins.dir, variants: bins.variants },
    variants_ranked: ranked.map((v) => ({ variant: v, score: variantScore(v, cpu.flags) })),
    variants_unrunnable: unrunnable.map((v) => ({ variant: v, missing: missingFeatures(v, cpu.flags) })),
    ggml_loads: ggmlLoads,
    requested,
    choice,
    model: values.model
      ? {
          path: values.model,
          architecture: facts?.architecture ?? null,
          storage_type: facts?.storageType ?? null,
          verdicts: Object.fromEntries([...verdicts].map(([v, d]) => [v, d.ok ? 'ok' : `failed at ${d.stage}: ${d.reason}`])),
          known_issues: bins.variants.flatMap((v) => {
            const issue = knownIssue(v, facts?.architecture, facts?.storageType)
            return issue ? [{ variant: v, what: issue.what, runs_here: ranked.includes(v) }] : []
          }),
        }
      : null,
  }
  if (values.json) {
    out(JSON.stringify(report, null, 2))
  } else {
    formatDoctor(report, out)
  }
  return 'error' in (choice ?? {}) ? 1 : 0
}

type DoctorReport = {
  cpu: { model: string; physical_cores: number; logical_cpus: number; numa_nodes: number; features: string; amx: boolean }
  llama_cpp: { node_llama_cpp: string; variants: string[] }
  variants_ranked: { variant: string; score: number }[]
  variants_unrunnable: { variant: string; missing: string[] }[]
  ggml_loads: string[]
  requested: string
  choice: { variant: string; reason: string } | { error: string } | undefined
  model: { path: string; architecture: string | null; storage_type: string | null; verdicts: Record<string, string>; known_issues: { variant: string; what: string; runs_here: boolean }[] } | null
}

function formatDoctor(r: DoctorReport, out: (line: string) => void): void {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  out(`CPU           ${r.cpu.model}: ${plural(r.cpu.physical_cores, 'physical core')}, ${plural(r.cpu.logical_cpus, 'logical CPU')}, ${plural(r.cpu.numa_nodes, 'NUMA node')}`)
  out(`features      ${r.cpu.features}`)
  out(`llama.cpp     node-llama-cpp ${r.llama_cpp.node_llama_cpp} prebuilt, ${plural(r.llama_cpp.variants.length, 'CPU variant')}`)
  out(`runs here     ${r.variants_ranked.map((v) => v.variant).join(' > ') || '(ggml chooses)'}`)
  if (r.variants_unrunnable.length > 0) out(`cannot run    ${r.variants_unrunnable.map((v) => `${v.variant} (no ${v.missing.join(', ')})`).join(', ')}`)
  const best = r.variants_ranked[0]?.variant
  out(`ggml loads    ${r.ggml_loads.join(', ') || 'no CPU variant'} from the full folder${best ? (r.ggml_loads.includes(best) ? ' (as ranked)' : ` (ranked best: ${best})`) : ''}`)
  if (r.model) {
    out(`model         ${r.model.path}: ${r.model.architecture ?? 'unknown architecture'}, ${r.model.storage_type ?? 'unknown'} weights`)
    for (const [variant, verdict] of Object.entries(r.model.verdicts)) out(`  probed      ${variant}: ${verdict}`)
    for (const issue of r.model.known_issues) out(`  known issue ${issue.variant}: ${issue.what}${issue.runs_here ? '' : ' (this CPU cannot run that variant)'}`)
    if (Object.keys(r.model.verdicts).length === 0 && r.model.known_issues.length === 0) out('  no verdicts yet: node-host serve probes the model before serving it (or run doctor --probe)')
  }
  const c = r.choice
  if (c && 'error' in c) out(`chosen        none (--cpu-variant ${r.requested}): ${c.error}`)
  else if (c) out(`chosen        ${c.variant} (--cpu-variant ${r.requested}): ${c.reason}`)
}
