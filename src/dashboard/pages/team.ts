import { html } from 'hono/html'
import type { AdminHealthBody } from '../../admin/health.js'
import { BACKEND_MODES } from '../../db/schema.js'
import { count, dateTime, day, duration, money, share } from '../format.js'
import type { TeamReport } from '../report-types.js'
import type { TeamView } from '../view-scope.js'
import type { Viewer } from '../viewer.js'
import { periodFields } from './filters.js'
import { healthTable } from './health.js'
import { layout, type Html } from './layout.js'
import { breakdownTable, card, chartFrames, flag, moneyCard, moneyCell, num, table, totalsCards } from './parts.js'

export interface TeamPageProps {
  viewer: Viewer
  report: TeamReport
  view: TeamView
  /** Gateway admins pick any team. */
  teams?: ReadonlyArray<{ id: string; name: string }>
  /** Team-admins and admins see each backend's health beside the mode switch. */
  health?: AdminHealthBody
  flash?: string
}

const withParams = (path: string, params: URLSearchParams, patch: Record<string, string | undefined> = {}) => {
  const p = new URLSearchParams(params)
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) p.delete(k)
    else p.set(k, v)
  }
  return `${path}?${p}`
}

function option(value: string, label: string, selected: string | undefined) {
  return html`<option value="${value}"${flag(value === (selected ?? ''), 'selected')}>${label}</option>`
}

function filterForm(p: TeamPageProps): Html {
  const { viewer, report, view } = p
  // Members choose among the models of their own key's rows, not the whole team's.
  const models = viewer.reach === 'key' ? report.byModel.map((r) => r.value).filter((m) => m !== '') : report.models
  return html`<form method="get" action="/dashboard/team" class="filters" data-testid="filters">
${p.teams ? html`<label>Team <select name="team" data-autosubmit data-testid="team-picker">${p.teams.map((t) => option(t.id, t.name, report.team.id))}</select></label>` : ''}
${periodFields(view.period, view.params)}
${viewer.reach === 'key' ? '' : html`<label>Key <select name="key" data-autosubmit data-testid="filter-key">${option('', 'All keys', view.filter.keyId)}${report.keys.map((k) => option(k.id, k.name, view.filter.keyId))}</select></label>`}
<label>Model <select name="model" data-autosubmit data-testid="filter-model">${option('', 'All models', view.filter.model)}${models.map((m) => option(m, m, view.filter.model))}</select></label>
<label>Backend <select name="backend" data-autosubmit data-testid="filter-backend">${option('', 'Both', view.filter.backend)}${option('local', 'Local', view.filter.backend)}${option('hosted', 'Hosted', view.filter.backend)}</select></label>
<button type="submit" class="secondary">Apply</button>
</form>`
}

function budgetSection(p: TeamPageProps): Html | string {
  const budget = p.report.budget
  // A member's page is about its key: a team budget is the team-admin's business (as in /v1/usage).
  if (!budget || (p.viewer.reach === 'key' && budget.scope !== 'key')) return ''
  const used = budget.spentNanoUsd + budget.heldNanoUsd
  const budgetCard = card({
    label: `Budget used (${budget.scope}, ${budget.period})`,
    testid: 'budget-used',
    value: used,
    text: `${money(used)} of ${money(budget.limitNanoUsd)}`,
    note: html`<meter min="0" max="${budget.limitNanoUsd}" value="${Math.min(used, budget.limitNanoUsd)}" data-testid="budget-meter"></meter> ${share(used, budget.limitNanoUsd)}`,
  })
  return html`<div class="cards">${budgetCard}</div>`
}

function savingsSection(report: TeamReport): Html {
  const t = report.totals
  const rows = report.savingsByDay.map(
    (d) => html`<tr data-value="${d.dayStartMs}"><td>${day(d.dayStartMs, report.period.tzOffsetMin)}</td>${num(count(d.localRequests), d.localRequests)}${moneyCell(d.localCostNanoUsd)}${moneyCell(d.localHostedEquivNanoUsd)}${moneyCell(d.savingsNanoUsd)}</tr>`,
  )
  return html`<section data-testid="local-vs-hosted">
<h2>Local vs hosted, in money</h2>
<p class="muted">What the locally served requests cost on the node-hosts, against what the hosted API would have charged for the same tokens.</p>
<div class="cards">
${moneyCard('Local cost', 'local-vs-hosted-local-cost', t.localCostNanoUsd)}
${moneyCard('Hosted would have charged', 'hosted-equivalent', t.localHostedEquivNanoUsd)}
${moneyCard('Savings', 'savings', t.savingsNanoUsd, t.savingsNanoUsd < 0 ? 'local cost more than hosted would have' : undefined, true)}
</div>
${table('savings-by-day', 'Per day', html`<tr><th>Day</th><th class="num">Local requests</th><th class="num">Local cost</th><th class="num">Hosted would have charged</th><th class="num">Savings</th></tr>`, rows, 'No local requests in this period.')}
</section>`
}

function recentTable(report: TeamReport): Html {
  const tz = report.period.tzOffsetMin
  const rows = report.recent.map(
    (r) => html`<tr data-value="${r.id}"><td class="mono">${dateTime(r.createdAtMs, tz)}</td><td>${r.keyName || r.keyId}</td><td>${r.model ?? '—'}</td><td>${r.backend ?? '—'}${r.fellBack ? html` <span class="badge warn" title="${r.fallbackReason ?? ''}">fallback</span>` : ''}</td><td>${r.host ?? ''}</td><td class="num">${r.status >= 400 ? html`<span class="badge danger" title="${r.errorCode ?? ''}">${r.status}</span>` : r.status}</td>${num(count(r.promptTokens), r.promptTokens)}${num(count(r.completionTokens), r.completionTokens)}${moneyCell(r.costNanoUsd + r.localCostNanoUsd)}${num(duration(r.latencyMs), r.latencyMs)}${num(duration(r.ttftMs), r.ttftMs)}</tr>`,
  )
  return table(
    'recent-requests',
    'Recent requests (newest first; metadata only)',
    html`<tr><th>Time</th><th>Key</th><th>Model</th><th>Backend</th><th>Host</th><th class="num">Status</th><th class="num">Prompt</th><th class="num">Completion</th><th class="num">Cost</th><th class="num">Latency</th><th class="num">TTFT</th></tr>`,
    rows,
  )
}

function routingSection(p: TeamPageProps): Html {
  const { report, viewer } = p
  const current = report.team.backendMode
  return html`<section data-testid="routing">
<h2>Routing</h2>
<p>Requests of this team go to: <strong data-testid="backend-mode" data-value="${report.team.effectiveMode}">${report.team.effectiveMode}</strong>${current === null ? html` <span class="muted">(the gateway default)</span>` : ''}</p>
<form method="post" action="/dashboard/team/backend-mode" class="form-row" data-testid="backend-mode-form" data-confirm="Change how this team's requests are routed? It applies to the next request.">
  <input type="hidden" name="csrf" value="${viewer.csrf}">
  <input type="hidden" name="team" value="${report.team.id}">
  <label>Backend mode <select name="backend_mode" data-testid="backend-mode-select">${BACKEND_MODES.map((m) => option(m, m, current ?? report.team.effectiveMode))}</select></label>
  <button type="submit" data-testid="backend-mode-submit">Switch</button>
</form>
${p.health ? healthTable(p.health, { errors: viewer.reach === 'gateway' }) : ''}
</section>`
}

export function teamPage(p: TeamPageProps): Html {
  const { report, view, viewer } = p
  const canSwitch = viewer.reach !== 'key'
  const keyLink = canSwitch ? (r: { value: string }) => withParams('/dashboard/team', view.params, { key: r.value }) : undefined
  return layout({
    title: report.team.name,
    viewer,
    current: 'team',
    charts: report.charts,
    body: html`<div class="page-header"><h1 data-testid="team-name" data-value="${report.team.id}">${report.team.name}</h1><span class="muted" data-testid="period-label">${report.period.label}${report.period.tzOffsetMin === 0 ? ' (UTC)' : ''}</span></div>
${p.flash ? html`<p class="notice" role="status" data-testid="flash">${p.flash}</p>` : ''}
${viewer.reach === 'key' ? html`<p class="muted">Showing your key's requests only.</p>` : ''}
${filterForm(p)}
${totalsCards(report.totals)}
${budgetSection(p)}
${savingsSection(report)}
<h2>Charts</h2>
${chartFrames(report.charts)}
<h2>Breakdowns</h2>
${breakdownTable('by-key', 'By key', 'Key', report.byKey, keyLink)}
${breakdownTable('by-model', 'By model', 'Model', report.byModel)}
${breakdownTable('by-backend', 'By backend', 'Backend', report.byBackend)}
${breakdownTable('by-host', 'By node-host', 'Host', report.byHost)}
<h2>Recent requests</h2>
${recentTable(report)}
<h2>Export</h2>
<p data-testid="exports"><a class="button secondary" href="${withParams('/dashboard/export/usage.csv', view.params)}" data-testid="export-usage" download>Requests (CSV)</a> <a class="button secondary" href="${withParams('/dashboard/export/daily.csv', view.params)}" data-testid="export-daily" download>Daily totals (CSV)</a></p>
${canSwitch ? routingSection(p) : ''}`,
  })
}
