/**
 * Where the proxy benchmarks run: the proxy under test alone on the last CPU, the client (this process)
 * and the fake upstream on the others, so a proxy's throughput is what one core of it serves, not a share
 * of cores it fights the load generator for. With one CPU, or without `taskset`, nothing is pinned and
 * the layout says so.
 */
import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

export interface CpuLayout {
  /** taskset CPU list for the proxies, or undefined when not pinned. */
  proxy?: string
  /** taskset CPU list for the client and the fake upstream. */
  load?: string
  /** Every CPU, for the runs where all processes share them. */
  all?: string
  /** One line for the table's setup row. */
  describe: string
}

const hasTaskset = () => spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0

export function proxyCpuLayout(cpus = availableParallelism(), taskset = hasTaskset()): CpuLayout {
  if (process.env.BENCH_NO_PIN === '1') return { describe: 'not pinned: BENCH_NO_PIN=1' }
  if (cpus < 2) return { describe: 'not pinned: one CPU' }
  if (!taskset) return { describe: 'not pinned: no taskset' }
  const proxy = String(cpus - 1)
  const load = cpus === 2 ? '0' : `0-${cpus - 2}`
  return { proxy, load, all: `0-${cpus - 1}`, describe: `each proxy alone on CPU ${proxy}; client and fake upstream on CPU ${load}` }
}

/** The command that runs `argv` on `cpus` (all its threads), or `argv` itself when `cpus` is undefined. */
export function onCpus(cpus: string | undefined, argv: string[]): string[] {
  return cpus === undefined ? argv : ['taskset', '-c', cpus, ...argv]
}

/** Moves every thread of process `pid` to `cpus`. */
export function setAffinity(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid}: ${r.stderr.trim()}`)
}

/** Pins this process (every thread) to `cpus`; returns what puts its old affinity back. */
export function pinSelf(cpus: string | undefined): () => void {
  if (cpus === undefined) return () => {}
  const shown = spawnSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' })
  const mask = /mask:\s*([0-9a-f]+)/i.exec(shown.stdout)?.[1]
  setAffinity(process.pid, cpus)
  return () => {
    if (mask) spawnSync('taskset', ['-a', '-p', mask, String(process.pid)])
  }
}
