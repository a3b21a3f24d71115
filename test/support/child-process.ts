import { spawn, type ChildProcess } from 'node:child_process'

export interface ChildServer {
  pid: number
  /** Words after `READY` on the child's stdout. */
  words: string[]
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>
}

/** Runs a TypeScript script with tsx in its own process and waits (bounded) for its `READY ...` line. */
export function spawnChildServer(script: string, args: string[], readyTimeoutMs = 60_000): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const stop = async (graceMs = 15_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    const code = await exited
    clearTimeout(killer)
    return code
  }
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      void stop(0)
      reject(new Error(`${script} was not ready within ${readyTimeoutMs} ms`))
    }, readyTimeoutMs)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const line = /READY ([^\n]*)\n/.exec(out)
      if (!line) return
      clearTimeout(timer)
      resolve({ pid: child.pid!, words: line[1]!.split(' '), stop })
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${code} before it was ready`))
    })
  })
}
