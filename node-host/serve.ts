/**
 * Starts node-host in this process: an engine (in-process model or upstream), the HTTP app, a listening
 * server on loopback. Used by the CLI, by tests, and by the project's `npm start`.
 */
import { serve, type ServerType } from '@hono/node-server'
import type { Hono } from 'hono'
import type { AddressInfo } from 'node:net'
import { importSigningKey } from '../src/signing.js'
import { createNodeHostApp } from './app.js'
import type { NodeHostEnv } from './auth.js'
import { createForwardEngine } from './engine/forward-engine.js'
import { createLlamaEngine } from './engine/llama-engine.js'
import type { BatchingPolicy } from './engine/decode-mode.js'
import { resolveThreadCount } from './engine/threads.js'
import { silentLogger, type Logger } from './log.js'
import type { SlotQueue } from './queue.js'
import type { Engine } from './types.js'

export interface StartNodeHostOptions {
  /** GGUF to serve in-process. Exactly one of model, upstream, engine. */
  model?: string
  /** OpenAI-compatible server to forward to. */
  upstream?: string
  upstreamModel?: string
  upstreamApiKey?: string
  /** A ready-made engine (tests, embedding). */
  engine?: Engine
  /** HMAC secret shared with the gateway (>= 16 chars). Required unless insecureNoAuth. */
  secret?: string
  insecureNoAuth?: boolean
  /** Default 127.0.0.1: the tunnel connects locally; nothing else should. */
  host?: string
  /** Default 0: any free port (see `url`). */
  port?: number
  /** Decode threads; default physical cores - 1, capped at physical cores. */
  threads?: number
  /** Parallel sequences (slots); default 4. */
  parallel?: number
  /** Tokens per sequence; default 4096. */
  contextSize?: number
  /** Requests allowed to wait for a slot before 429; default 16. */
  maxQueue?: number
  modelName?: string
  metricsOpen?: boolean
  /** llama.cpp CPU backend variant: 'auto' (default; env NODE_HOST_CPU_VARIANT) or a name. */
  cpuVariant?: string
  /** Concurrent sequences decoded in one batch, one at a time, or whichever measures faster ('auto', the default). */
  batching?: BatchingPolicy
  /** Idle interval before an SSE keep-alive comment; default 15000. */
  keepAliveMs?: number
  /** Resolve only once the model is loaded (default true); false serves /health 503 loading meanwhile. */
  waitForReady?: boolean
  log?: Logger
  onLoadProgress?: (progress: number) => void
}

export interface NodeHost {
  url: string
  app: Hono<NodeHostEnv>
  engine: Engine
  queue: SlotQueue
  /** Resolves when the engine serves; rejects if loading failed. */
  ready: Promise<void>
  close(): Promise<void>
}

export async function startNodeHost(opts: StartNodeHostOptions): Promise<NodeHost> {
  const log = opts.log ?? silentLogger
  const sources = [opts.model, opts.upstream, opts.engine].filter((s) => s !== undefined)
  if (sources.length !== 1) throw new Error('give exactly one of model, upstream or engine')
  const secret = opts.secret ?? process.env.NODE_HOST_SECRET
  if (!secret && !opts.insecureNoAuth) throw new Error('a signing secret is required (--secret or NODE_HOST_SECRET); --insecure-no-auth only for local experiments')
  const signingKey = secret && !opts.insecureNoAuth ? await importSigningKey(secret) : undefined
  if (!signingKey) log.warn('auth.disabled', { message: 'INSECURE: requests are not signature-checked; never expose this port or tunnel it' })

  const parallel = opts.parallel ?? 4
  const engine = opts.engine ?? createEngine(opts, parallel, log)
  const { app, queue } = createNodeHostApp({
    engine,
    signingKey,
    parallel,
    maxQueue: opts.maxQueue ?? 16,
    metricsOpen: opts.metricsOpen,
    keepAliveMs: opts.keepAliveMs,
    log,
  })

  const server = await listen(app, opts.host ?? '127.0.0.1', opts.port ?? 0)
  const { address, port } = server.address() as AddressInfo
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`
  log.info('listening', { url, mode: engine.info().mode })

  const close = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      if ('closeAllConnections' in server) server.closeAllConnections()
    })
    await engine.close()
  }
  if (opts.waitForReady ?? true) {
    try {
      await engine.ready
    } catch (err) {
      await close()
      throw err
    }
  }
  return { url, app, engine, queue, ready: engine.ready, close }
}

function createEngine(opts: StartNodeHostOptions, parallel: number, log: Logger): Engine {
  if (opts.upstream) {
    return createForwardEngine({ upstream: opts.upstream, modelName: opts.modelName, upstreamModel: opts.upstreamModel, upstreamApiKey: opts.upstreamApiKey, parallel, log })
  }
  const { threads, capped } = resolveThreadCount(opts.threads)
  if (capped) log.warn('threads.capped', { requested: opts.threads, threads, message: 'more threads than physical cores only adds spinning; capped' })
  return createLlamaEngine({
    modelPath: opts.model!,
    modelName: opts.modelName,
    threads,
    parallel,
    contextSize: opts.contextSize ?? 4096,
    cpuVariant: opts.cpuVariant ?? process.env.NODE_HOST_CPU_VARIANT ?? 'auto',
    batching: opts.batching,
    onLoadProgress: opts.onLoadProgress,
    log,
  })
}

function listen(app: Hono<NodeHostEnv>, hostname: string, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, () => resolve(server))
    server.once('error', reject)
  })
}
