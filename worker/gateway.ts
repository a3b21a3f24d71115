import { createClient } from '@libsql/client/web'
import { drizzle } from 'drizzle-orm/libsql/web'
import { createGateway, type Gateway } from '../src/app.js'
import { parseConfig } from '../src/config.js'
import * as schema from '../src/db/schema.js'
import { insertUsageRows } from '../src/db/usage.js'
import { jsonLogger } from '../src/log.js'
import { hostedCost, priceTableFrom } from '../src/metering/cost.js'
import { createDirectUsageWriter } from '../src/metering/direct-writer.js'
import type { Env } from './env.js'

/**
 * Bindings -> gateway deps. The database is reached over HTTP (libSQL's Web client);
 * migrations are not applied here: the migrator reads files, so they run from Node.
 */
export function gatewayFromEnv(env: Env): Gateway {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set (a libsql://, https:// or http:// sqld URL)')
  const config = parseConfig(env)
  const client = createClient({
    url: env.DATABASE_URL,
    authToken: env.DATABASE_AUTH_TOKEN,
    // No client-side queue: the client is shared by the isolate's requests, and a query queued
    // behind another request's would be started in that request's I/O context, which workerd
    // never lets this one finish ("code had hung"). Workers limit connections per request anyway.
    // (The documented `0` is turned into the default 20 by @libsql/core 0.18.)
    concurrency: Number.POSITIVE_INFINITY,
  })
  const db = drizzle(client, { schema })
  const log = jsonLogger()
  return createGateway({
    db,
    config,
    usage: createDirectUsageWriter({ write: (rows) => insertUsageRows(db, rows), log }),
    cost: hostedCost(priceTableFrom(config.priceTableJson)),
    // Wrapped: backends call `opts.fetch(...)`, and workerd's fetch throws "Illegal invocation" unless called unbound.
    fetch: (input, init) => fetch(input, init),
    log,
  })
}
