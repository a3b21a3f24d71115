import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { errorPage } from './pages/error.js'
import type { Html } from './pages/layout.js'
import type { Viewer } from './viewer.js'

/** A rendered page with its status. */
export function page(c: Context, body: Html, status: ContentfulStatusCode = 200): Response | Promise<Response> {
  return c.html(body, status)
}

/** The dashboard's one way to answer a client mistake or refusal: an HTML page saying what to fix. */
export function errorResponse(c: Context, status: ContentfulStatusCode, message: string, viewer?: Viewer): Response | Promise<Response> {
  return c.html(errorPage(status, message, viewer), status)
}

/** A form field as text; files and missing fields are undefined. */
export function formText(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name]
  return typeof value === 'string' ? value : undefined
}
