import { spawn, type ChildProcess } from 'node:child_process'


export interface ServerProcess {
  words: string[]
  stop(): Promise<void>
}

/** Runs a bench server script in its own process and waits for its `READY ...` line. */
export function spawnServer(script: string, args: string[] = []): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...(process.env.BENCH_PROF && script.includes(process.env.BENCH_PROF) ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const line = /READY ([^\n]*)\n/.exec(out)
      if (line) {
        resolve({
          words: line[1]!.split(' '),
          stop: () => new Promise<void>((r) => {
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
