/**
 * The node-host HTTP app: OpenAI routes, health and metrics over an Engine. Runtime-agnostic Hono; the
 * Node wiring (model loading, listening) is in serve.ts.
 */
import { Hono } from 'hono'
import { openAIErrorResponse } from '../src/openai/errors.js'
import { signatureAuth, type NodeHostEnv } from './auth.js'
import { handleChatCompletion } from './chat-completions.js'
import { healthReport } from './health.js'
import { silentLogger, type Logger } from './log.js'
import { createMetrics, type NodeHostMetrics } from './metrics.js'
import { createSlotQueue, type SlotQueue } from './queue.js'
import { createThroughputWindow, type ThroughputWindow } from './throughput.js'
import type { Engine } from './types.js'

export interface NodeHostAppDeps {
  engine: Engine
  /** HMAC key shared with the gateway; undefined only with --insecure-no-auth. */
  signingKey: CryptoKey | undefined
  parallel: number
  maxQueue: number
  /** Serve /metrics without a signature (for a Prometheus on the same box). */
  metricsOpen?: boolean
  /** Idle interval before an SSE keep-alive comment; default 15 s. */
  keepAliveMs?: number
  maxBodyBytes?: number
  log?: Logger
}

export interface NodeHostApp {
  app: Hono<NodeHostEnv>
  queue: SlotQueue
  metrics: NodeHostMetrics
  throughput: ThroughputWindow
}

export function createNodeHostApp(deps: NodeHostAppDeps): NodeHostApp {
  const queue = createSlotQueue({ slots: deps.parallel, maxQueue: deps.maxQueue })
  const throughput = createThroughputWindow()
  const metrics = createMetrics({
    queue,
    throughput,
    modelName: () => deps.engine.info().modelName,
    ready: () => deps.engine.info().state === 'ready',
  })
  const log = deps.log ?? silentLogger
  const startedAtMs = Date.now()
  const openPaths = new Set(['/health', ...(deps.metricsOpen ? ['/metrics'] : [])])

  const app = new Hono<NodeHostEnv>()
  app.get('/health', async (c) => {
    const { status, body } = await healthReport({ engine: deps.engine, queue, throughput, startedAtMs })
    return c.json(body, status)
  })
  app.use('*', signatureAuth({ key: deps.signingKey, maxBodyBytes: deps.maxBodyBytes ?? 8 * 1024 * 1024, isOpen: (path) => openPaths.has(path) }))
  app.get('/metrics', (c) => c.text(metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }))
  app.get('/v1/models', (c) => {
    const info = deps.engine.info()
    return c.json({ object: 'list', data: [{ id: info.modelName, object: 'model', created: Math.floor(startedAtMs / 1000), owned_by: 'node-host' }] })
  })
  app.post('/v1/chat/completions', (c) =>
    handleChatCompletion({ engine: deps.engine, queue, metrics, throughput, log, keepAliveMs: deps.keepAliveMs ?? 15_000 }, c.get('rawBody'), c.req.raw.signal),
  )
  app.notFound(() => openAIErrorResponse(404, 'not_found', 'Unknown route'))
  app.onError((err) => {
    log.error('unhandled', { error: err.name })
    return openAIErrorResponse(500, 'internal_error', 'Internal error')
  })
  return { app, queue, metrics, throughput }
}
