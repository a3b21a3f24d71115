/**
 * Thread count for a bandwidth-bound CPU decode. ggml's worker threads spin at barriers, so a thread
 * more than there are free physical cores makes every token wait for a descheduled spinner: on a 2-vCPU
 * VM 2 threads ran far slower than 1, and 4 threads ran 0.5 tok/s. Default: physical cores minus one
 * for the event loop and the OS, at least 1; an explicit --threads is capped at the physical cores.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

/** Physical cores from /proc/cpuinfo (unique physical id + core id); falls back to logical CPUs. */
export function physicalCoreCount(cpuinfo: string | undefined = readCpuinfo()): number {
  const logical = availableParallelism()
  if (!cpuinfo) return logical
  const cores = new Set<string>()
  for (const block of cpuinfo.split(/\n\s*\n/)) {
    const physical = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1]
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1]
    if (physical !== undefined && core !== undefined) cores.add(`${physical}:${core}`)
  }
  // Containers may see fewer CPUs than the host has cores.
  return cores.size > 0 ? Math.min(cores.size, logical) : logical
}

function readCpuinfo(): string | undefined {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8')
  } catch {
    return undefined
  }
}

export function defaultThreadCount(physicalCores = physicalCoreCount()): number {
  return Math.max(1, physicalCores - 1)
}

/** An explicit request, capped at the physical cores (more only adds spinning threads). */
export function resolveThreadCount(requested: number | undefined, physicalCores = physicalCoreCount()): { threads: number; capped: boolean } {
  if (requested === undefined) return { threads: defaultThreadCount(physicalCores), capped: false }
  const threads = Math.max(1, Math.min(Math.floor(requested), physicalCores))
  return { threads, capped: threads !== requested }
}
