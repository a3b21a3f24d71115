import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { dashboardAssetUrl } from '../assets.js'
import type { ChartData } from '../report-types.js'
import type { Viewer } from '../viewer.js'

/** A piece of page: escaped by hono/html, so values interpolated into it are always text. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>

export interface LayoutOptions {
  title: string
  /** Signed-in pages show the navigation and the sign-out form. */
  viewer?: Viewer
  current?: 'team' | 'admin'
  /** Drawn by dashboard.js into the page's [data-chart] elements. */
  charts?: ChartData[]
  body: Html
}

/**
 * JSON for a <script type="application/json">: `<` escaped so no value can close the element.
 * The block is data (the CSP blocks inline scripts; dashboard.js reads it by id).
 */
export function jsonScriptText(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c')
}

function nav(viewer: Viewer, current: LayoutOptions['current']) {
  const link = (href: string, page: LayoutOptions['current'], text: string) =>
    html`<a href="${href}"${page === current ? raw(' aria-current="page"') : ''}>${text}</a>`
  return html`<nav>${link('/dashboard/team', 'team', 'Team')}${viewer.reach === 'gateway' ? link('/dashboard/admin', 'admin', 'Admin') : ''}</nav>
    <span class="spacer"></span>
    <span class="muted small" data-testid="signed-in-as">${viewer.keyName} · ${viewer.actor.role}</span>
    <form method="post" action="/dashboard/sign-out">
      <input type="hidden" name="csrf" value="${viewer.csrf}">
      <button type="submit" class="secondary" data-testid="sign-out">Sign out</button>
    </form>`
}

export function layout(opts: LayoutOptions): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · moe-gateway</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${dashboardAssetUrl('uplot.css')}">
<link rel="stylesheet" href="${dashboardAssetUrl('dashboard.css')}">
<script src="${dashboardAssetUrl('uplot.js')}" defer></script>
<script src="${dashboardAssetUrl('dashboard.js')}" defer></script>
</head>
<body>
<header class="topbar"><a class="brand" href="/dashboard">moe-gateway</a>${opts.viewer ? nav(opts.viewer, opts.current) : ''}</header>
<main>
${opts.body}
</main>
${opts.charts ? html`<script type="application/json" id="dashboard-data">${raw(jsonScriptText({ charts: opts.charts }))}</script>` : ''}
</body>
</html>`
}
