import type { EnvVars } from '../config-values.js'
import { costNanoUsdPerHour, HOST_COST_ENV, HOST_COST_FIELDS, HostCostError, type HostCostSource } from './host-cost.js'

/** One node-host in the local pool, as the operator configured it. */
export interface NodeHostEntry {
  name: string
  url: string
  secret: string
  /** Public model names this host serves; undefined = any. */
  models?: string[]
  /** What the box costs per hour while it serves (hardware + power), integer nano-USD; 0 when not configured. */
  costNanoUsdPerHour: number
}

function fail(message: string): never {
  throw new Error(`NODE_HOSTS: ${message}`)
}

function entryFrom(raw: unknown, index: number): NodeHostEntry {
  if (typeof raw !== 'object' || raw === null) fail(`entry ${index} must be an object`)
  const r = raw as Record<string, unknown>
  const name = typeof r.name === 'string' && r.name.trim() ? r.name.trim() : fail(`entry ${index} needs a "name"`)
  const url = typeof r.url === 'string' && r.url.trim() ? r.url.trim().replace(/\/+$/, '') : fail(`"${name}" needs a "url"`)
  // Unsigned requests would let anyone reach the box through its tunnel.
  const secret = typeof r.secret === 'string' && r.secret ? r.secret : fail(`"${name}" needs a "secret" (node-host requests must be signed)`)
  if (r.models !== undefined && (!Array.isArray(r.models) || !r.models.every((m) => typeof m === 'string'))) fail(`"${name}".models must be an array of strings`)
  const models = r.models as string[] | undefined
  return { name, url, secret, ...(models && models.length > 0 ? { models } : {}), costNanoUsdPerHour: entryCost(name, r.cost) }
}

function entryCost(name: string, raw: unknown): number {
  try {
    return costNanoUsdPerHour(raw, { whole: `"${name}".cost`, field: (f) => `"${name}".cost.${f}` })
  } catch (err) {
    if (err instanceof HostCostError) fail(err.message)
    throw err
  }
}

/** The one-host shorthand's cost: NODE_HOST_HARDWARE_USD and its siblings (HOST_COST_ENV); errors name the variable. */
function shorthandCost(env: EnvVars): number {
  const raw: HostCostSource = Object.fromEntries(HOST_COST_FIELDS.map((f) => [f, env[HOST_COST_ENV[f]]?.trim()]))
  return costNanoUsdPerHour(raw, { whole: 'NODE_HOST_* cost', field: (f) => HOST_COST_ENV[f] })
}

/**
 * The local pool's hosts: NODE_HOSTS (a JSON array), or NODE_HOST_URL + NODE_HOST_SECRET as a
 * one-host shorthand named "node-host".
 */
export function parseNodeHosts(env: EnvVars): NodeHostEntry[] {
  const json = env.NODE_HOSTS?.trim()
  if (json) {
    let parsed: unknown
    try {
      parsed = JSON.parse(json)
    } catch {
      fail('must be a JSON array of { name, url, secret, models?, cost? }')
    }
    if (!Array.isArray(parsed)) fail('must be a JSON array')
    const hosts = parsed.map(entryFrom)
    const names = new Set(hosts.map((h) => h.name))
    if (names.size !== hosts.length) fail('host names must be unique')
    return hosts
  }
  const url = env.NODE_HOST_URL?.trim()
  if (!url) return []
  if (!env.NODE_HOST_SECRET) throw new Error('NODE_HOST_URL is set but NODE_HOST_SECRET is not: node-host requests must be signed')
  return [{ name: 'node-host', url: url.replace(/\/+$/, ''), secret: env.NODE_HOST_SECRET, costNanoUsdPerHour: shorthandCost(env) }]
}
