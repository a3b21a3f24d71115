import type { Env, Handler } from 'hono'
import { dashboardAssets } from './assets.gen.js'

/** One file the dashboard pages load; assets.gen.ts (scripts/dashboard-assets.ts) holds them all. */
export interface DashboardAsset {
  body: string
  contentType: string
  /** SHA-256 hex prefix of body, unquoted. */
  etag: string
}

/** Where the handler is mounted; pages link assets with dashboardAssetUrl(). */
export const DASHBOARD_ASSETS_PREFIX = '/dashboard/assets'

/** Names the gateway serves: uplot.js, uplot.css, dashboard.js, dashboard.css. */
export type DashboardAssetName = 'uplot.js' | 'uplot.css' | 'dashboard.js' | 'dashboard.css'

/**
 * URL of an asset, versioned by its content so a deploy is seen before max-age runs out.
 * @example html`<script src="${dashboardAssetUrl('dashboard.js')}"></script>`
 */
export function dashboardAssetUrl(name: DashboardAssetName, assets: Record<string, DashboardAsset> = dashboardAssets): string {
  const asset = assets[name]
  return `${DASHBOARD_ASSETS_PREFIX}/${name}${asset ? `?v=${asset.etag}` : ''}`
}

/**
 * Serves the dashboard's scripts and styles (uPlot and ours) from memory, with ETag revalidation.
 * @example app.get('/dashboard/assets/:name', serveDashboardAssets())
 */
export function serveDashboardAssets<E extends Env = Env>(opts: { assets?: Record<string, DashboardAsset> } = {}): Handler<E> {
  const assets = opts.assets ?? dashboardAssets
  return (c) => {
    c.header('x-content-type-options', 'nosniff')
    const name = c.req.param('name') ?? ''
    const asset = Object.hasOwn(assets, name) ? assets[name] : undefined
    if (!asset) return c.text('Not found', 404)

    const etag = `"${asset.etag}"`
    c.header('etag', etag)
    c.header('cache-control', 'public, max-age=3600')
    if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304)
    c.header('content-type', asset.contentType)
    return c.body(asset.body, 200)
  }
}

/** If-None-Match uses weak comparison (RFC 9110 §13.1.2): W/"x" matches "x"; * matches anything. */
function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false
  return ifNoneMatch.split(',').some((candidate) => {
    const tag = candidate.trim()
    return tag === '*' || tag.replace(/^W\//, '') === etag
  })
}
