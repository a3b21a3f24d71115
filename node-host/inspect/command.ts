import { parseArgs } from 'node:util'
import { readGgufHeader } from '../gguf/reader.js'
import { measureReadBandwidth, type BandwidthMeasurement } from './bandwidth.js'
import { formatPlan } from './format.js'
import { capacityPlan } from './plan.js'

const USAGE = 'usage: node-host inspect <model.gguf> [--bandwidth-gbs <GB/s>] [--context <tokens>] [--json]'
const DEFAULT_CONTEXT_TOKENS = 8192

/**
 * `node-host inspect`: capacity planning from a GGUF header (tensor data is never read).
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

  let plan
  try {
    plan = capacityPlan(header, { contextTokens, bandwidthBytesPerSecond: bandwidthGBs * 1e9 })
  } catch (error) {
    out(`error: ${path}: ${(error as Error).message}`)
    return 1
  }

  if (values.json) {
    out(JSON.stringify({ path, ...plan, bandwidthMeasurement: measured ?? null }, null, 2))
  } else {
    for (const line of formatPlan(path, plan, measured)) out(line)
  }
  return 0
}

function parsePositive(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  return Number.isFinite(value) && value > 0 ? value : NaN
}
