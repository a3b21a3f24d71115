/**
 * The Worker's bindings: [vars] in wrangler.toml plus secrets from `wrangler secret put`.
 * All strings; parseConfig() validates them, the same way as on Node.
 */
export type Env = {
  /** libsql://…turso.io, https://… or http://host:port of a sqld. */
  DATABASE_URL?: string
  DEFAULT_BACKEND?: string
  DEEPSEEK_BASE_URL?: string
  NODE_HOST_URL?: string
  LOCAL_MODELS?: string
  KEY_CACHE_TTL_MS?: string
  FIRST_BYTE_TIMEOUT_MS?: string
  STREAM_IDLE_TIMEOUT_MS?: string
  RESPONSE_TIMEOUT_MS?: string
  MAX_BODY_BYTES?: string
  PRICE_TABLE?: string
  // Secrets.
  DATABASE_AUTH_TOKEN?: string
  DEEPSEEK_API_KEY?: string
  NODE_HOST_SECRET?: string
  ADMIN_KEY?: string
  /** Signs dashboard sessions; unset, a random one is kept in the database's gateway_settings. */
  DASHBOARD_SESSION_SECRET?: string
}
