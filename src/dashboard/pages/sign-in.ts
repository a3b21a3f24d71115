import { html } from 'hono/html'
import { layout, type Html } from './layout.js'

/**
 * The sign-in form: the key is posted in the body (never in a URL) into a password field the
 * browser should not remember. `error` is one generic line, whatever was wrong.
 */
export function signInPage(opts: { csrf: string; error?: string }): Html {
  return layout({
    title: 'Sign in',
    body: html`<h1>Usage dashboard</h1>
<p class="muted">Sign in with your gateway API key (admin, team-admin or member).</p>
${opts.error ? html`<p class="error" role="alert" data-testid="sign-in-error">${opts.error}</p>` : ''}
<form method="post" action="/dashboard/sign-in" data-testid="sign-in-form">
  <input type="hidden" name="csrf" value="${opts.csrf}">
  <input type="hidden" name="tz" value="0" data-browser-tz>
  <div class="form-row">
    <label>API key <input type="password" name="api_key" autocomplete="off" spellcheck="false" required size="48" data-testid="api-key"></label>
    <button type="submit" data-testid="sign-in">Sign in</button>
  </div>
</form>`,
  })
}
