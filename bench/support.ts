import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { onCpus } from './cpu-pinning.js'

export interface ServerProcess {
  words: string[]
  pid: number
  stop(): Promise<void>
}

/** Runs a bench server script in its own process (on `cpus`, a taskset list, if given) and waits for its `READY ...` line. */
export function spawnServer(script: string, args: string[] = [], cpus?: string): Promise<ServerProcess> {
  const profile = process.env.BENCH_PROF && script.includes(process.env.BENCH_PROF) ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []
  // taskset execs the command, so the pid is the server's own.
  const [command, ...argv] = onCpus(cpus, [process.execPath, ...profile, '--import', 'tsx', script, ...args])
  const child: ChildProcess = spawn(command!, argv, { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const line = /READY ([^\n]*)\n/.exec(out)
      if (line) {
        resolve({
          words: line[1]!.split(' '),
          pid: child.pid!,
          stop: () => new Promise<void>((r) => {
            if (child.exitCode !== null || child.signalCode !== null) return r()
            child.once('exit', () => r())
            child.kill('SIGTERM')
            setTimeout(() => child.kill('SIGKILL'), 5000).unref()
          }),
        })
      }
    })
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)))
  })
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN
}

export function median(values: number[]): number {
  return percentile(values, 50)
}

export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a'
}

/** `median (min-max)` of repeated measurements. */
export function spread(values: number[], digits = 2): string {
  return `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}-${fmt(Math.max(...values), digits)})`
}

/**
 * CPU time a process has used so far, all threads, in ns: each thread's run time from
 * /proc/<pid>/task/<tid>/schedstat (ns; /proc/<pid>/stat only counts 10 ms ticks). Linux only.
 * A thread that exits takes its time with it; Node's threads live as long as the process.
 */
export function cpuTimeNs(pid: number): number {
  let total = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return total
}
