import { html } from 'hono/html'
import type { AdminHealthBody } from '../../admin/health.js'
import type { NodeHostReport } from '../../backends/pool-report.js'
import { duration, share } from '../format.js'
import type { Html } from './layout.js'
import { table } from './parts.js'

/** node-host's /health statuses that come with a 503 (node-host/health.ts): it cannot serve now. */
const NOT_SERVING = new Set(['loading', 'failed', 'closed', 'upstream_unavailable'])

/**
 * A node-host's state now, with node-host's own reason when it gave one. Down also when its last
 * /health said it cannot serve: routing may still send it a trial (a half-open breaker) or, until
 * enough probes failed, traffic. The reason comes from node-host's public /health, so any viewer may see it.
 */
export function hostState(h: NodeHostReport): Html {
  const notServing = h.health_status !== null && NOT_SERVING.has(h.health_status)
  const why = [notServing ? h.health_status : null, h.breaker !== 'closed' ? `breaker ${h.breaker}` : null, h.retry_after_until !== null ? 'Retry-After' : null].filter((w) => w !== null)
  const badge = h.available && !notServing ? html`<span class="badge ok">up</span>` : html`<span class="badge danger">down${why.length > 0 ? `: ${why.join(', ')}` : ''}</span>`
  return html`${badge}${h.health_error ? html`<div class="muted small" data-testid="health-error">${h.health_error}</div>` : ''}`
}

/**
 * What this gateway process knows about each backend now (src/admin/health.ts). Error texts are
 * for gateway admins only, as on /admin/health: they may come from other teams' requests.
 */
export function healthTable(health: AdminHealthBody, opts: { errors: boolean }): Html {
  const lastError = (text: string | null) => (opts.errors ? text ?? '' : '')
  const hosted = health.hosted
  const hostedRow = hosted.configured
    ? html`<tr data-value="hosted"><td>hosted</td><td>${hosted.error_rate === null ? html`<span class="badge">no recent requests</span>` : hosted.error_rate < 0.5 ? html`<span class="badge ok">up</span>` : html`<span class="badge danger">failing</span>`}</td><td class="num">${hosted.error_rate === null ? '—' : share(hosted.error_rate, 1)}</td><td>${lastError(hosted.last_error)}</td></tr>`
    : html`<tr data-value="hosted"><td>hosted</td><td><span class="badge">not configured</span></td><td></td><td></td></tr>`
  const hostRows = health.local.hosts.map(
    (h) => html`<tr data-value="${h.name}"><td>local: ${h.name}</td><td>${hostState(h)}</td><td class="num">${h.in_flight} in flight${h.slots ? ` · ${h.slots.busy}/${h.slots.total} slots` : ''}${h.latency_p50_ms !== null ? ` · p50 ${duration(h.latency_p50_ms)}` : ''}</td><td>${lastError(h.last_error)}</td></tr>`,
  )
  const localRow = health.local.configured ? [] : [html`<tr data-value="local"><td>local</td><td><span class="badge">not configured</span></td><td></td><td></td></tr>`]
  return table('backend-health', 'Backend health (as this gateway process sees it now)', html`<tr><th>Backend</th><th>State</th><th class="num">Load</th><th>Last error</th></tr>`, [hostedRow, ...hostRows, ...localRow])
}
