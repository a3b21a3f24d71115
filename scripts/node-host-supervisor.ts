/**
 * Runs node-host as its own OS process (`bin/node-host.js serve`) and restarts it with backoff
 * when it dies: llama.cpp can abort() natively (some CPUs), which takes down only that process.
 *
 * const host = superviseNodeHost({ serveArgs: ['--model', path], secret, env: process.env, print })
 * const url = await host.listening   // every restart reuses this port, so the URL stays valid
 * host.stopRestarting(); await host.stop()
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { NODE_HOST_BACKOFF, ranHealthy, restartDelayMs, type RestartBackoff } from './restart-backoff.js'

const NODE_HOST_BIN = fileURLToPath(new URL('../bin/node-host.js', import.meta.url))
// What node-host/cli.ts prints on stderr.
const LISTENING_LINE = /^node-host listening on (http:\/\/\S+) \(health: /
const READY_LINE = /^ready: serving /
// The last lines may still be in the pipe at exit; a grandchild holding stderr must not stall a restart.
const DRAIN_MS = 500

export interface SuperviseOptions {
  /** `node-host serve` flags, without --port: the supervisor owns it. */
  serveArgs: string[]
  /** Sent as NODE_HOST_SECRET: argv is readable by every user through `ps`. */
  secret: string
  /** The child's environment (NODE_HOST_CPU_VARIANT and the like pass through as they are). */
  env: NodeJS.ProcessEnv
  /** One line for the operator; node-host's own stderr lines arrive prefixed `[node-host] `. */
  print: (line: string) => void
  backoff?: RestartBackoff
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopGraceMs?: number
  /** Each time a run has loaded its model (first start and restarts). */
  onReady?: () => void
}

export interface SupervisedNodeHost {
  /** The first run's URL once it listens; rejects if that run ends before it listened. */
  listening: Promise<string>
  /** True once the first run has loaded its model, false if it ended first. */
  firstLoad: Promise<boolean>
  /** The live process's pid; undefined while waiting to restart. */
  pid(): number | undefined
  /** No restart from now on; the running process is left alone. */
  stopRestarting(): void
  /** stopRestarting(), then SIGTERM (SIGKILL after the grace); resolves once it has exited. */
  stop(): Promise<void>
}

function isAlive(proc: ChildProcess | undefined): proc is ChildProcess {
  return proc !== undefined && proc.exitCode === null && proc.signalCode === null
}

export function superviseNodeHost(opts: SuperviseOptions): SupervisedNodeHost {
  const backoff = opts.backoff ?? NODE_HOST_BACKOFF
  let url: string | undefined
  let port = 0
  let current: ChildProcess | undefined
  let restartTimer: NodeJS.Timeout | undefined
  let failures = 0
  let restarting = true
  let listened!: (url: string) => void
  let neverListened!: (err: Error) => void
  const listening = new Promise<string>((resolve, reject) => ((listened = resolve), (neverListened = reject)))
  let firstLoaded!: (loaded: boolean) => void
  const firstLoad = new Promise<boolean>((resolve) => (firstLoaded = resolve))

  function run(): void {
    const proc = spawn(process.execPath, [NODE_HOST_BIN, 'serve', ...opts.serveArgs, '--port', String(port)], {
      env: { ...opts.env, NODE_HOST_SECRET: opts.secret },
      stdio: ['ignore', 'inherit', 'pipe'],
      // Its own process group: a terminal's Ctrl-C reaches only this script, which stops it after the gateway drained.
      detached: true,
    })
    current = proc
    let readyAtMs: number | undefined
    const lines = createInterface({ input: proc.stderr!, crlfDelay: Infinity })
    const drained = new Promise<void>((resolve) => lines.once('close', resolve))
    lines.on('line', (line) => {
      opts.print(`[node-host] ${line}`)
      const listen = LISTENING_LINE.exec(line)
      if (listen?.[1] && url === undefined) {
        url = listen[1]
        port = Number(new URL(url).port)
        listened(url)
      } else if (listen?.[1] && listen[1] !== url) {
        opts.print(`node-host listens on ${listen[1]}, not ${url}: the gateway cannot reach it`)
      }
      if (READY_LINE.test(line)) {
        readyAtMs ??= Date.now()
        firstLoaded(true)
        opts.onReady?.()
      }
    })
    if (proc.pid !== undefined) opts.print(`node-host pid ${proc.pid}`)

    let ended = false
    const end = async (how: string) => {
      if (ended) return
      ended = true
      const endedAtMs = Date.now()
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, DRAIN_MS))])
      firstLoaded(false)
      if (!restarting) return
      if (url === undefined) {
        // The first run never listened: a bad flag, secret or port, which a restart would not fix.
        restarting = false
        neverListened(new Error(`node-host ${how} before it listened`))
        return
      }
      if (ranHealthy(backoff, readyAtMs, endedAtMs)) failures = 0
      const delayMs = restartDelayMs(backoff, failures++)
      opts.print(`node-host ${how}; restarting in ${delayMs / 1000} s`)
      restartTimer = setTimeout(run, delayMs)
    }
    proc.once('exit', (code, signal) => void end(signal ? `exited (signal ${signal})` : `exited (code ${code})`))
    // Spawn failures (EAGAIN, ENOMEM) may come without an exit event.
    proc.once('error', (err) => void end(`could not run (${err.message})`))
  }

  // Detached, it would outlive a crash of this script; a signal death still can, nothing runs then.
  process.once('exit', () => {
    if (isAlive(current)) current.kill('SIGKILL')
  })
  run()

  const stopRestarting = () => {
    restarting = false
    clearTimeout(restartTimer)
  }
  return {
    listening,
    firstLoad,
    pid: () => (isAlive(current) ? current.pid : undefined),
    stopRestarting,
    async stop() {
      stopRestarting()
      const proc = current
      if (!isAlive(proc)) return
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGTERM')
      const killer = setTimeout(() => proc.kill('SIGKILL'), opts.stopGraceMs ?? 5000)
      await exited
      clearTimeout(killer)
    },
  }
}
