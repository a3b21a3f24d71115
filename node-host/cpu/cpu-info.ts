/**
 * What the CPU offers that llama.cpp's CPU backend variants care about, read from /proc/cpuinfo and
 * /sys (Linux). Parsing is a pure function of the text so tests can feed other machines' cpuinfo.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { physicalCoreCount } from '../engine/threads.js'

export interface CpuInfo {
  modelName: string
  /** /proc/cpuinfo flag names (avx2, avx512f, amx_int8, …). */
  flags: ReadonlySet<string>
  physicalCores: number
  logicalCpus: number
  /** NUMA nodes; 1 where /sys does not say. */
  numaNodes: number
}

export function parseCpuinfo(cpuinfo: string): { modelName: string; flags: Set<string> } {
  const modelName = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU'
  // x86 says "flags", arm64 says "Features".
  const flagLine = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? ''
  return { modelName, flags: new Set(flagLine.split(/\s+/).filter(Boolean)) }
}

export function readCpuInfo(): CpuInfo {
  const text = readText('/proc/cpuinfo') ?? ''
  const { modelName, flags } = parseCpuinfo(text)
  return { modelName, flags, physicalCores: physicalCoreCount(text || undefined), logicalCpus: availableParallelism(), numaNodes: numaNodeCount() }
}

function numaNodeCount(): number {
  try {
    const nodes = readdirSync('/sys/devices/system/node').filter((name) => /^node\d+$/.test(name))
    return Math.max(1, nodes.length)
  } catch {
    return 1
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** Names the features that matter for decode speed and variant choice, in one line. */
export function featureSummary(flags: ReadonlySet<string>): string {
  const named: [string, string[]][] = [
    ['AVX2', ['avx2']],
    ['AVX-512', ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd']],
    ['AVX512_VNNI', ['avx512_vnni']],
    ['AVX512_BF16', ['avx512_bf16']],
    ['AVX512_VBMI', ['avx512vbmi']],
    ['AVX_VNNI', ['avx_vnni']],
    ['AMX', ['amx_tile', 'amx_int8']],
  ]
  return named.map(([name, needs]) => `${name} ${needs.every((f) => flags.has(f)) ? 'yes' : 'no'}`).join(', ')
}
