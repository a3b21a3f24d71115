import { html } from 'hono/html'
import type { AdminHealthBody } from '../../admin/health.js'
import { count, share } from '../format.js'
import type { AdminReport, BreakdownRow } from '../report-types.js'
import type { Viewer } from '../viewer.js'
import { periodFields } from './filters.js'
import { healthTable, hostState } from './health.js'
import { layout, type Html } from './layout.js'
import { chartFrames, moneyCard, moneyCell, num, table, totalsCards } from './parts.js'

export interface AdminPageProps {
  viewer: Viewer
  report: AdminReport
  health: AdminHealthBody
  /** The period as query parameters, carried into the team links. */
  params: URLSearchParams
}

const TOP_SPENDERS = 5
const spend = (r: BreakdownRow) => r.hostedCostNanoUsd + r.localCostNanoUsd

function teamLink(r: BreakdownRow, params: URLSearchParams): Html {
  const p = new URLSearchParams(params)
  p.set('team', r.value)
  return html`<a href="/dashboard/team?${p.toString()}">${r.label}</a>`
}

function teamsTable(p: AdminPageProps): Html {
  const rows = p.report.teams.map(
    (r) => html`<tr data-value="${r.value}"><td>${teamLink(r, p.params)}</td>${moneyCell(spend(r))}${moneyCell(r.hostedCostNanoUsd)}${moneyCell(r.localCostNanoUsd)}${num(count(r.requests), r.requests)}${num(share(r.localRequests, r.requests), r.localRequests)}${moneyCell(r.savingsNanoUsd)}${num(count(r.errors), r.errors)}</tr>`,
  )
  return table('teams', 'All teams, most spent first', html`<tr><th>Team</th><th class="num">Spend</th><th class="num">Hosted cost</th><th class="num">Local cost</th><th class="num">Requests</th><th class="num">Local share</th><th class="num">Savings</th><th class="num">Errors</th></tr>`, rows, 'No team used the gateway in this period.')
}

function topSpenders(p: AdminPageProps): Html {
  const top = p.report.teams.filter((r) => spend(r) > 0).slice(0, TOP_SPENDERS)
  return html`<div class="cards" data-testid="top-spenders">${top.length === 0 ? html`<p class="muted">Nothing spent in this period.</p>` : top.map((r, i) => moneyCard(`#${i + 1} ${r.label}`, `top-spender-${i + 1}`, spend(r), `${count(r.requests)} ${r.requests === 1 ? 'request' : 'requests'}`))}</div>`
}

function hostsTable(p: AdminPageProps): Html {
  const live = new Map(p.health.local.hosts.map((h) => [h.name, h]))
  const rows = p.report.hosts.map((h) => {
    const now = live.get(h.value)
    const state = now === undefined ? html`<span class="badge">not in this process's pool</span>` : hostState(now)
    const utilizationPermille = Math.round(h.utilization * 1000)
    return html`<tr data-value="${h.value}"><td>${h.label}</td><td>${state}</td>${num(count(h.requests), h.requests)}${num(count(h.completionTokens), h.completionTokens)}${moneyCell(h.localCostNanoUsd)}<td class="num" data-value="${h.busyMs}"><meter min="0" max="1000" value="${utilizationPermille}"></meter> ${share(h.utilization, 1)}</td><td class="num">${now?.decode_tokens_per_second != null ? `${now.decode_tokens_per_second.toFixed(1)} tok/s` : '—'}</td><td class="num">${now ? `${now.in_flight} in flight` : ''}</td></tr>`
  })
  return table('node-hosts', 'Node-hosts: local requests and busy share of the period so far', html`<tr><th>Host</th><th>Now</th><th class="num">Requests</th><th class="num">Completion tokens</th><th class="num">Local cost</th><th class="num">Busy</th><th class="num">Decode</th><th class="num">Load</th></tr>`, rows, 'No node-hosts configured or used.')
}

export function adminPage(p: AdminPageProps): Html {
  const { report } = p
  return layout({
    title: 'All teams',
    viewer: p.viewer,
    current: 'admin',
    charts: report.charts,
    body: html`<div class="page-header"><h1>All teams</h1><span class="muted" data-testid="period-label">${report.period.label}${report.period.tzOffsetMin === 0 ? ' (UTC)' : ''}</span></div>
<form method="get" action="/dashboard/admin" class="filters" data-testid="filters">${periodFields(report.period, p.params)}<button type="submit" class="secondary">Apply</button></form>
${totalsCards(report.totals)}
<h2>Top spenders</h2>
${topSpenders(p)}
<h2>Teams</h2>
${teamsTable(p)}
<h2>Charts</h2>
${chartFrames(report.charts)}
<h2>Node-hosts</h2>
${hostsTable(p)}
<h2>Backends now</h2>
${healthTable(p.health, { errors: true })}`,
  })
}
