import { html } from 'hono/html'
import type { Viewer } from '../viewer.js'
import { layout, type Html } from './layout.js'

/** A gateway admin's /dashboard/team without ?team=: which team to look at. */
export function teamPickerPage(viewer: Viewer, teams: ReadonlyArray<{ id: string; name: string }>, params: URLSearchParams): Html {
  const link = (id: string) => {
    const p = new URLSearchParams(params)
    p.set('team', id)
    return `/dashboard/team?${p.toString()}`
  }
  return layout({
    title: 'Teams',
    viewer,
    current: 'team',
    body: html`<h1>Pick a team</h1>
${teams.length === 0 ? html`<p class="muted">No teams yet.</p>` : html`<ul data-testid="team-list">${teams.map((t) => html`<li><a href="${link(t.id)}" data-value="${t.id}">${t.name}</a></li>`)}</ul>`}`,
  })
}
