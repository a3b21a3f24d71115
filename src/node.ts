/**
 * Node entry: the gateway on @hono/node-server, an embedded libSQL file by default,
 * migrations at start, undici keep-alive for upstreams, and a batching usage writer
 * that is flushed on shutdown.
 */
import { serve, type ServerType } from '@hono/node-server'
import { hash } from 'node:crypto'
import type { Client } from '@libsql/client'
import { pathToFileURL } from 'node:url'
import { createGateway, type Gateway } from './app.js'
import { parseConfig, type EnvVars } from './config.js'
import type { GatewayDb } from './db/client.js'
import { hasAdminKey, insertKey } from './db/keys.js'
import { openNodeDb } from './node/open-db.js'
import { nodeClientGone } from './node/client-gone.js'
import { answerClientError, answerConnect } from './node/http-refusals.js'
import { nodeUsageWrite } from './node/usage-file-inserter.js'
import { jsonLogger, type Logger } from './log.js'
import { BatchingUsageWriter } from './metering/batching-writer.js'
import { hostedCost, priceTableFrom } from './metering/cost.js'
import { undiciUpstream } from './node/undici-upstream.js'

export { undiciUpstream } from './node/undici-upstream.js'

export interface RunningGateway {
  url: string
  port: number
  gateway: Gateway
  db: GatewayDb
  client: Client
  writer: BatchingUsageWriter
  /** Stops accepting requests, flushes usage rows, closes the database. */
  close(): Promise<void>
}

/** SHA-256 of a key, synchronously: Node's one-shot hash skips Web Crypto's thread-pool hop and a Hash object per request. */
function sha256HexSync(key: string): string {
  return hash('sha256', key, 'hex')
}

/** Runs `task` now and hourly, never twice at once, without keeping the process alive. */
function everyHour(task: () => Promise<unknown>): () => void {
  let running = false
  const run = () => {
    if (running) return
    running = true
    void task().finally(() => (running = false))
  }
  run()
  const timer = setInterval(run, 3_600_000)
  timer.unref()
  return () => clearInterval(timer)
}

export interface StartOptions {
  env?: EnvVars
  port?: number
  hostname?: string
  log?: Logger
  /** Where the one-time bootstrap admin key is printed (default: stderr). */
  announce?: (text: string) => void
}

export async function startGateway(opts: StartOptions = {}): Promise<RunningGateway> {
  const env = opts.env ?? process.env
  const log = opts.log ?? jsonLogger()
  const config = parseConfig(env)
  const databaseUrl = env.DATABASE_URL || 'file:./data/gateway.db'
  const { db, client } = await openNodeDb(databaseUrl, { authToken: env.DATABASE_AUTH_TOKEN })
  const bootstrapAdminKey = !config.adminKey && !(await hasAdminKey(db)) ? (await insertKey(db, { teamId: null, name: 'bootstrap admin', role: 'admin' })).key : undefined
  const usageWrite = await nodeUsageWrite(databaseUrl, db, client)
  const writer = new BatchingUsageWriter({ write: usageWrite.write, probe: () => client.execute('select 1'), log })
  const gateway = createGateway({ db, config, usage: writer, cost: hostedCost(priceTableFrom(config.priceTableJson)), fetch: undiciUpstream(), hashKey: sha256HexSync, clientGone: nodeClientGone, log })
  // Workers probe lazily on requests; a Node process keeps probing its node-hosts between them.
  const stopProbes = gateway.localPool?.startProbes()
  const stopRetention = everyHour(() => gateway.pruneUsage())
  const hostname = opts.hostname ?? env.HOST ?? '127.0.0.1'
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: gateway.app.fetch, port: opts.port ?? Number(env.PORT ?? 8080), hostname }, () => resolve(s))
  })
  server.on('clientError', answerClientError)
  server.on('connect', answerConnect)
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  if (bootstrapAdminKey) {
    // Printed once, on purpose: there is no other way to learn it. Not a log line.
    ;(opts.announce ?? ((text) => process.stderr.write(text)))(
      `\nCreated the first admin key (shown once, store it now):\n\n  ${bootstrapAdminKey}\n\n` +
        `Use it as "Authorization: Bearer <key>" on /admin, or with the CLI:\n  npx moe-gateway teams create acme --url http://${hostname}:${port} --admin-key <key>\n\n`,
    )
  }
  return {
    url: `http://${hostname}:${port}`,
    port,
    gateway,
    db,
    client,
    writer,
    async close() {
      stopProbes?.()
      stopRetention()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      const left = await writer.flush(10_000)
      if (left > 0) log.error('usage rows not written at shutdown', { pendingRows: left })
      usageWrite.close()
      client.close()
    },
  }
}

function isMain(): boolean {
  return process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
}

if (isMain()) {
  const running = await startGateway()
  process.stderr.write(`moe-gateway listening on ${running.url}\n`)
  const stop = async () => {
    await running.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
