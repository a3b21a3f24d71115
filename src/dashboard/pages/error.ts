import { html } from 'hono/html'
import type { Viewer } from '../viewer.js'
import { layout, type Html } from './layout.js'

const TITLES: Record<number, string> = { 400: 'Bad request', 401: 'Not signed in', 403: 'Not allowed', 404: 'Not found', 500: 'Something went wrong' }

/** A page for a 4xx/5xx: what went wrong, in words the viewer can act on. */
export function errorPage(status: number, message: string, viewer?: Viewer): Html {
  const title = TITLES[status] ?? 'Error'
  return layout({
    title,
    viewer,
    body: html`<h1>${title}</h1>
<p class="error" data-testid="error-message">${message}</p>
<p><a href="/dashboard">Back to the dashboard</a></p>`,
  })
}
