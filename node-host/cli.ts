/**
 * `node-host serve ...` and `node-host inspect ...`. Flags are documented in node-host/README.md.
 */
import { parseArgs } from 'node:util'
import { createJsonLogger, type Logger } from './log.js'
import { isBatchingPolicy } from './engine/decode-mode.js'
import { startNodeHost, type StartNodeHostOptions } from './serve.js'

const USAGE = `usage:
  node-host serve --model ./m.gguf [--secret S | env NODE_HOST_SECRET] [--port 8081] [--host 127.0.0.1]
                  [--threads N] [--parallel 4] [--context 4096] [--max-queue 16] [--model-name NAME]
                  [--cpu-variant auto|NAME] [--batching auto|batched|serial] [--metrics-open] [--keep-alive-ms 15000] [--insecure-no-auth]
  node-host serve --upstream http://127.0.0.1:9931 [--upstream-model NAME] [--upstream-api-key K] [same flags]
  node-host inspect <model.gguf> [--bandwidth-gbs N] [--context N] [--json]
  node-host doctor [--model ./m.gguf] [--cpu-variant auto|NAME] [--probe] [--json]`

export interface CliIo {
  out(line: string): void
  err(line: string): void
  /** Resolves when the process should stop (SIGINT/SIGTERM). */
  stopSignal(): Promise<string>
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  stopSignal: () => new Promise((resolve) => ['SIGINT', 'SIGTERM'].forEach((s) => process.once(s, () => resolve(s)))),
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'serve') return serveCommand(rest, io)
  if (command === 'doctor') {
    const { runDoctor } = await import('./cpu/doctor.js')
    return runDoctor(rest, io.out)
  }
  if (command === 'inspect') {
    // Loaded on demand: it is another module's, and serve must not depend on it.
    const { runInspect } = (await import('./inspect/command.js')) as { runInspect(argv: string[], out: (line: string) => void): Promise<number> }
    return runInspect(rest, io.out)
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(USAGE)
    return command === undefined ? 2 : 0
  }
  io.err(`unknown command: ${command}\n${USAGE}`)
  return 2
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): StartNodeHostOptions & { port: number } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      model: { type: 'string' },
      upstream: { type: 'string' },
      'upstream-model': { type: 'string' },
      'upstream-api-key': { type: 'string' },
      secret: { type: 'string' },
      port: { type: 'string', default: '8081' },
      host: { type: 'string', default: '127.0.0.1' },
      threads: { type: 'string' },
      parallel: { type: 'string', default: '4' },
      context: { type: 'string', default: '4096' },
      'max-queue': { type: 'string', default: '16' },
      'model-name': { type: 'string' },
      'metrics-open': { type: 'boolean', default: false },
      'keep-alive-ms': { type: 'string', default: '15000' },
      'cpu-variant': { type: 'string' },
      batching: { type: 'string' },
      'insecure-no-auth': { type: 'boolean', default: false },
    },
  })
  if (!values.model === !values.upstream) throw new Error('give exactly one of --model or --upstream')
  const int = (name: string, value: string | undefined, min: number): number | undefined => {
    if (value === undefined) return undefined
    const n = Number(value)
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`)
    return n
  }
  const batching = values.batching ?? env.NODE_HOST_BATCHING ?? 'auto'
  if (!isBatchingPolicy(batching)) throw new Error(`--batching must be auto, batched or serial (got ${JSON.stringify(batching)})`)
  return {
    model: values.model,
    upstream: values.upstream,
    upstreamModel: values['upstream-model'],
    upstreamApiKey: values['upstream-api-key'] ?? env.NODE_HOST_UPSTREAM_API_KEY,
    secret: values.secret ?? env.NODE_HOST_SECRET,
    insecureNoAuth: values['insecure-no-auth'],
    host: values.host,
    port: int('port', values.port, 0)!,
    threads: int('threads', values.threads, 1),
    parallel: int('parallel', values.parallel, 1),
    contextSize: int('context', values.context, 16),
    maxQueue: int('max-queue', values['max-queue'], 0),
    modelName: values['model-name'],
    metricsOpen: values['metrics-open'],
    keepAliveMs: int('keep-alive-ms', values['keep-alive-ms'], 10),
    cpuVariant: values['cpu-variant'] ?? env.NODE_HOST_CPU_VARIANT ?? 'auto',
    batching,
  }
}

async function serveCommand(argv: string[], io: CliIo): Promise<number> {
  let options: ReturnType<typeof parseServeArgs>
  try {
    options = parseServeArgs(argv)
  } catch (err) {
    io.err(`error: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
    return 2
  }
  if (!options.secret && !options.insecureNoAuth) {
    io.err('error: no signing secret: pass --secret or set NODE_HOST_SECRET (or --insecure-no-auth for local experiments only)')
    return 2
  }
  if (options.insecureNoAuth) io.err('WARNING: --insecure-no-auth: anyone who can reach this port can use the model. Never tunnel or expose it.')
  const log: Logger = createJsonLogger(io.err)
  let lastShown = -1
  const host = await startNodeHost({
    ...options,
    log,
    waitForReady: false,
    onLoadProgress: (progress) => {
      const percent = Math.floor(progress * 100)
      if (percent >= lastShown + 10 || percent === 100) {
        lastShown = percent
        io.err(`loading model: ${percent}%`)
      }
    },
  }).catch((err: unknown) => {
    io.err(`error: ${err instanceof Error ? err.message : String(err)}`)
    return undefined
  })
  if (!host) return 1
  io.err(`node-host listening on ${host.url} (health: ${host.url}/health)`)
  const stop = io.stopSignal()
  const loaded = await Promise.race([
    host.ready.then(
      () => true,
      () => false,
    ),
    stop.then(() => undefined),
  ])
  if (loaded === false) {
    // Stay up: /health answers 503 with the reason, so the gateway (and its admin) can see why.
    io.err(`error: ${host.engine.info().error ?? 'model failed to load'}`)
    io.err(`node-host stays up to report this on ${host.url}/health; stop it with Ctrl-C`)
  } else if (loaded) {
    const info = host.engine.info()
    io.err(`ready: serving ${info.modelName}${info.cpuVariant ? ` (llama.cpp CPU variant ${info.cpuVariant})` : ''}`)
  }
  const signal = await stop
  io.err(`${signal}: shutting down`)
  await host.close()
  return 0
}
