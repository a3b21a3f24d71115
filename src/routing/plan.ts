import type { BackendMode } from '../db/schema.js'

export type BackendName = 'local' | 'hosted'

export type RoutePlan =
  | { ok: true; order: BackendName[] }
  | { ok: false; status: 400 | 403 | 503; code: string; message: string }

const ORDER: Record<BackendMode, BackendName[]> = {
  hosted: ['hosted'],
  local: ['local'],
  'local-first': ['local', 'hosted'],
  'hosted-first': ['hosted', 'local'],
  // Both, in an order src/routing/auto-route.ts settles per request.
  auto: ['local', 'hosted'],
}

/**
 * Which backends to try, in order, for one request.
 * @example planRoute({ mode: 'local-first', override: undefined, allowOverride: true, available: { local: true, hosted: true } })
 */
export function planRoute(opts: {
  mode: BackendMode
  override: string | undefined
  allowOverride: boolean
  available: Record<BackendName, boolean>
}): RoutePlan {
  let order = ORDER[opts.mode]
  if (opts.override !== undefined) {
    if (opts.override !== 'local' && opts.override !== 'hosted') {
      return { ok: false, status: 400, code: 'invalid_backend', message: 'x-moe-backend must be "local" or "hosted"' }
    }
    if (!opts.allowOverride) {
      return { ok: false, status: 403, code: 'backend_override_not_allowed', message: "This team's keys may not choose a backend per request" }
    }
    order = [opts.override]
  }
  const usable = order.filter((name) => opts.available[name])
  if (usable.length === 0) {
    const wanted = order.join(' or ')
    return { ok: false, status: 503, code: 'backend_unavailable', message: `No ${wanted} backend is configured on this gateway` }
  }
  return { ok: true, order: usable }
}
