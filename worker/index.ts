/**
 * Cloudflare Workers entry: bindings -> gateway, nothing else. One gateway per isolate
 * (per env object), so the key cache and the database client outlive a single request.
 */
import type { Gateway } from '../src/app.js'
import type { Env } from './env.js'
import { gatewayFromEnv } from './gateway.js'

const gateways = new WeakMap<Env, Gateway>()

function gatewayFor(env: Env): Gateway {
  let gateway = gateways.get(env)
  if (!gateway) {
    gateway = gatewayFromEnv(env)
    gateways.set(env, gateway)
  }
  return gateway
}

export default {
  fetch(request, env, ctx) {
    return gatewayFor(env).app.fetch(request, env, ctx)
  },
  // The cron trigger in wrangler.toml: usage retention (raw rows past USAGE_RETENTION_DAYS).
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(gatewayFor(env).pruneUsage())
  },
} satisfies ExportedHandler<Env>
