import { parseArgs } from 'node:util'
import { modelFacts } from '../cpu/model-facts.js'
import { readGgufHeader } from '../gguf/reader.js'
import { measureReadBandwidth, type BandwidthMeasurement } from './bandwidth.js'
import { computeProfile, type ComputeProbeResult } from './compute-model.js'
import { measureCompute } from './compute-probe.js'
import { formatPlan } from './format.js'
import { weightStats } from './model-stats.js'
import { capacityPlan } from './plan.js'

const USAGE =
  'usage: node-host inspect <model.gguf> [--bandwidth-gbs <GB/s>] [--context <tokens>] [--compute-probe | --no-compute-probe] [--cpu-variant <name>] [--json]'
const DEFAULT_CONTEXT_TOKENS = 8192

/**
 * `node-host inspect`: capacity planning from a GGUF header (tensor data is never read).
 * Planning for this machine (no --bandwidth-gbs), it measures the read bandwidth and llama.cpp's kernel
 * speed for the model's weight types (compute-probe.ts); --bandwidth-gbs describes another machine, so
 * nothing is measured here unless --compute-probe asks for it.
 * `argv` is the argument list after the `inspect` subcommand. Returns the exit code.
 */
export async function runInspect(argv: string[], out: (line: string) => void): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'bandwidth-gbs': { type: 'string' },
        context: { type: 'string' },
        'compute-probe': { type: 'boolean', default: false },
        'no-compute-probe': { type: 'boolean', default: false },
        'cpu-variant': { type: 'string', default: 'auto' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    out(`error: ${(error as Error).message}`)
    out(USAGE)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help) {
    out(USAGE)
    return 0
  }
  const path = positionals[0]
  if (!path || positionals.length > 1) {
    out(USAGE)
    return 2
  }
  const contextTokens = parsePositive(values.context, DEFAULT_CONTEXT_TOKENS)
  const givenBandwidthGBs = values['bandwidth-gbs'] === undefined ? undefined : parsePositive(values['bandwidth-gbs'], NaN)
  if (Number.isNaN(contextTokens) || Number.isNaN(givenBandwidthGBs)) {
    out('error: --context and --bandwidth-gbs must be positive numbers')
    return 2
  }

  let header
  try {
    header = await readGgufHeader(path)
  } catch (error) {
    out(`error: cannot read ${path}: ${(error as Error).message}`)
    return 1
  }

  let measured: BandwidthMeasurement | undefined
  if (givenBandwidthGBs === undefined) measured = measureReadBandwidth()
  const bandwidthGBs = givenBandwidthGBs ?? measured!.bestGBs

  let probe: ComputeProbeResult | undefined
  let probeError: string | undefined
  const wantsProbe = values['compute-probe'] || (givenBandwidthGBs === undefined && !values['no-compute-probe'])
  if (wantsProbe) {
    try {
      probe = await measureCompute({ weights: weightStats(header), storageType: modelFacts(header).storageType, variant: values['cpu-variant'] })
    } catch (error) {
      // The bandwidth roofline still stands; say why compute is missing.
      probeError = (error as Error).message
    }
  }

  let plan
  try {
    plan = capacityPlan(header, { contextTokens, bandwidthBytesPerSecond: bandwidthGBs * 1e9, ...(probe ? { compute: computeProfile(probe) } : {}) })
  } catch (error) {
    out(`error: ${path}: ${(error as Error).message}`)
    return 1
  }

  if (values.json) {
    out(JSON.stringify({ path, ...plan, bandwidthMeasurement: measured ?? null, computeProbe: probe ?? null, ...(probeError ? { computeProbeError: probeError } : {}) }, null, 2))
  } else {
    for (const line of formatPlan(path, plan, { bandwidth: measured, probe, probeError })) out(line)
  }
  return 0
}

function parsePositive(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  return Number.isFinite(value) && value > 0 ? value : NaN
}
