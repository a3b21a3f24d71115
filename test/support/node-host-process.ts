import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { freePort, waitForHttp } from './net.js'

export interface NodeHostProcess {
  url: string
  pid: number
  /** Sends `signal` and resolves once the process has exited (at once if it already had). */
  kill(signal?: NodeJS.Signals): Promise<void>
}

/**
 * Runs node-host through its CLI (bin/node-host.js) as a separate OS process, so a test can
 * SIGKILL it like a crashed engine box. Resolves once /health says the model is loaded.
 */
export async function spawnNodeHost(opts: { model: string; secret: string; modelName: string; parallel: number; maxQueue: number; contextSize: number; keepAliveMs: number }): Promise<NodeHostProcess> {
  const port = await freePort()
  const args = [
    join(process.cwd(), 'bin/node-host.js'), 'serve', '--model', opts.model, '--port', String(port), '--threads', '1',
    '--parallel', String(opts.parallel), '--max-queue', String(opts.maxQueue), '--context', String(opts.contextSize),
    '--keep-alive-ms', String(opts.keepAliveMs), '--model-name', opts.modelName,
  ]
  // The secret goes by environment, not argv, as an operator would pass it.
  const proc = spawn(process.execPath, args, { env: { ...process.env, NODE_HOST_SECRET: opts.secret }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
    await exited
  }
  const url = `http://127.0.0.1:${port}`
  try {
    await waitForHttp(`${url}/health`, 60_000)
  } catch (err) {
    await kill()
    throw new Error(`node-host did not become ready: ${String(err)}\n${stderr}`)
  }
  return { url, pid: proc.pid ?? -1, kill }
}
