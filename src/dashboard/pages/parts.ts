import { html, raw } from 'hono/html'
import { count, duration, exactMoney, money, share } from '../format.js'
import type { BreakdownRow, ChartData, ReportTotals } from '../report-types.js'
import type { Html } from './layout.js'

/*
 * Pieces the team and admin pages share. Key numbers carry data-testid and their exact value in
 * data-value (integers; money in nano-USD; '' for none), beside the text people read.
 */

export interface CardOptions {
  label: string
  testid: string
  value: number | null
  text: string
  /** Exact amount on hover, for money. */
  title?: string
  note?: Html | string
  /** data-of: the whole a share is of (local-share: requests). */
  of?: number
  tone?: 'positive' | 'negative'
}

export function card(o: CardOptions): Html {
  return html`<div class="card"><div class="card-label">${o.label}</div><div class="card-value${o.tone ? ` ${o.tone}` : ''}" data-testid="${o.testid}" data-value="${o.value ?? ''}"${o.of !== undefined ? html` data-of="${o.of}"` : ''}${o.title ? html` title="${o.title}"` : ''}>${o.text}</div>${o.note ? html`<div class="card-note">${o.note}</div>` : ''}</div>`
}

export function moneyCard(label: string, testid: string, nanoUsd: number, note?: string, signed = false): Html {
  const tone = !signed || nanoUsd === 0 ? undefined : nanoUsd > 0 ? 'positive' : 'negative'
  return card({ label, testid, value: nanoUsd, text: money(nanoUsd), title: exactMoney(nanoUsd), note, tone })
}

export function countCard(label: string, testid: string, n: number, note?: string): Html {
  return card({ label, testid, value: n, text: count(n), note })
}

export function msCard(label: string, testid: string, ms: number | null): Html {
  return card({ label, testid, value: ms === null ? null : Math.round(ms), text: duration(ms) })
}

/** A table in its scrolling frame; cells are already markup. */
export function table(testid: string, caption: string, head: Html, rows: Html[], empty = 'Nothing in this period.'): Html {
  return html`<div class="table-wrap"><table data-testid="${testid}"><caption>${caption}</caption><thead>${head}</thead><tbody>${rows.length > 0 ? rows : html`<tr><td colspan="20" class="muted">${empty}</td></tr>`}</tbody></table></div>`
}

export const num = (text: string, value: number | null, title?: string) => html`<td class="num" data-value="${value ?? ''}"${title ? html` title="${title}"` : ''}>${text}</td>`
export const moneyCell = (nanoUsd: number) => num(money(nanoUsd), nanoUsd, exactMoney(nanoUsd))

const BREAKDOWN_HEAD = (what: string) =>
  html`<tr><th>${what}</th><th class="num">Requests</th><th class="num">Prompt tokens</th><th class="num">Completion tokens</th><th class="num">Hosted cost</th><th class="num">Local cost</th><th class="num">Local share</th><th class="num">Errors</th><th class="num">p95 latency</th></tr>`

/** Sums per key, model, backend or host; `link` turns a row's label into a filter link. */
export function breakdownTable(testid: string, caption: string, what: string, rows: readonly BreakdownRow[], link?: (row: BreakdownRow) => string | undefined): Html {
  return table(
    testid,
    caption,
    BREAKDOWN_HEAD(what),
    rows.map((r) => {
      const href = link?.(r)
      return html`<tr data-value="${r.value}"><td>${href ? html`<a href="${href}">${r.label}</a>` : r.label}</td>${num(count(r.requests), r.requests)}${num(count(r.promptTokens), r.promptTokens)}${num(count(r.completionTokens), r.completionTokens)}${moneyCell(r.hostedCostNanoUsd)}${moneyCell(r.localCostNanoUsd)}${num(share(r.localRequests, r.requests), r.localRequests)}${num(count(r.errors), r.errors)}${num(duration(r.latencyP95Ms), r.latencyP95Ms)}</tr>`
    }),
  )
}

/** One frame per chart; dashboard.js draws into it from #dashboard-data. Without script, the title stays. */
export function chartFrames(charts: readonly ChartData[]): Html {
  return html`<div class="charts">${charts.map((c) => html`<div class="chart" data-chart="${c.id}"><div class="chart-title">${c.title}</div></div>`)}</div>`
}

/** The key numbers every report has, in one grid. */
export function totalsCards(t: ReportTotals): Html {
  return html`<div class="cards" data-testid="overview">
${countCard('Requests', 'total-requests', t.requests, `${count(t.localRequests)} local · ${count(t.hostedRequests)} hosted`)}
${countCard('Prompt tokens', 'total-prompt-tokens', t.promptTokens)}
${countCard('Cache-hit tokens', 'total-cache-hit-tokens', t.cacheHitTokens, `of ${count(t.promptTokens)} prompt`)}
${countCard('Completion tokens', 'total-completion-tokens', t.completionTokens)}
${countCard('Reasoning tokens', 'total-reasoning-tokens', t.reasoningTokens)}
${moneyCard('Hosted cost', 'hosted-cost', t.hostedCostNanoUsd, 'billed by the hosted API')}
${moneyCard('Local cost', 'local-cost', t.localCostNanoUsd, 'node-host hardware and power')}
${card({ label: 'Local share', testid: 'local-share', value: t.localRequests, of: t.requests, text: share(t.localRequests, t.requests), note: 'of requests served locally' })}
${countCard('Fallbacks', 'total-fallbacks', t.fallbacks)}
${countCard('Errors', 'total-errors', t.errors, t.clientAborts > 0 ? `${count(t.clientAborts)} client aborts` : undefined)}
${msCard('Latency p50', 'latency-p50', t.latencyP50Ms)}
${msCard('Latency p95', 'latency-p95', t.latencyP95Ms)}
${msCard('TTFT p50', 'ttft-p50', t.ttftP50Ms)}
${msCard('TTFT p95', 'ttft-p95', t.ttftP95Ms)}
${card({ label: 'Local decode', testid: 'local-decode-tps', value: t.localDecodeTokensPerSecond === null ? null : Math.round(t.localDecodeTokensPerSecond * 10) / 10, text: t.localDecodeTokensPerSecond === null ? '—' : `${t.localDecodeTokensPerSecond.toFixed(1)} tok/s` })}
</div>`
}

/** A boolean attribute, when true. */
export const flag = (on: boolean, name: string) => (on ? raw(` ${name}`) : '')
