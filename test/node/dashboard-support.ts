/**
 * A minimal browser for the dashboard tests: a cookie jar (honouring Path, Max-Age and Secure as a
 * browser would), same-origin form posts, and every response kept so a test can search them all.
 */
import type { RunningGateway } from '../../src/node.js'

export interface SetCookie {
  name: string
  value: string
  attributes: Record<string, string | true>
  raw: string
}

export function parseSetCookie(raw: string): SetCookie {
  const [pair = '', ...attrs] = raw.split(';').map((p) => p.trim())
  const eq = pair.indexOf('=')
  const attributes: Record<string, string | true> = {}
  for (const a of attrs) {
    const i = a.indexOf('=')
    if (i === -1) attributes[a.toLowerCase()] = true
    else attributes[a.slice(0, i).toLowerCase()] = a.slice(i + 1)
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes, raw }
}

export interface Seen {
  url: string
  status: number
  headers: Headers
  body: string
}

export class DashboardBrowser {
  readonly jar = new Map<string, string>()
  readonly seen: Seen[] = []

  constructor(
    readonly base: string,
    /** Headers sent with every request (e.g. x-forwarded-proto). */
    readonly extraHeaders: Record<string, string> = {},
    /** What the browser would send as Origin on a form post. */
    readonly origin = base,
  ) {}

  private cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  private remember(res: Response): SetCookie[] {
    const cookies = res.headers.getSetCookie().map(parseSetCookie)
    for (const c of cookies) {
      if (c.attributes['max-age'] === '0' || c.value === '') this.jar.delete(c.name)
      else this.jar.set(c.name, c.value)
    }
    return cookies
  }

  async request(path: string, init: RequestInit = {}): Promise<{ res: Response; body: string; cookies: SetCookie[] }> {
    const headers = new Headers(init.headers)
    for (const [k, v] of Object.entries(this.extraHeaders)) headers.set(k, v)
    if (this.jar.size > 0 && !headers.has('cookie')) headers.set('cookie', this.cookieHeader())
    const url = `${this.base}${path}`
    const res = await fetch(url, { ...init, headers, redirect: 'manual' })
    const body = await res.text()
    this.seen.push({ url, status: res.status, headers: res.headers, body })
    return { res, body, cookies: this.remember(res) }
  }

  get(path: string) {
    return this.request(path)
  }

  /** A form post as a browser sends it from one of our pages (Origin: ours), unless told otherwise. */
  post(path: string, fields: Record<string, string>, headers: Record<string, string> = { origin: this.origin }) {
    return this.request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() })
  }

  /** Opens the sign-in page and posts the key with its token; the 303 (or 401 page) it answered. */
  async signIn(key: string) {
    const form = await this.get('/dashboard/sign-in')
    return this.post('/dashboard/sign-in', { api_key: key, csrf: csrfOf(form.body) })
  }
}

/** The hidden csrf input of the first form on a page. */
export function csrfOf(html: string): string {
  const m = /<input type="hidden" name="csrf" value="([^"]*)">/.exec(html)
  if (!m?.[1]) throw new Error('no csrf input on the page')
  return m[1]
}

/** data-value of the element with this data-testid, or undefined. */
export function testValue(html: string, testid: string): string | undefined {
  const m = new RegExp(`data-testid="${testid}" data-value="([^"]*)"`).exec(html)
  return m?.[1]
}

/** A browser signed in with `key`; throws unless sign-in answered 303. */
export async function signedIn(gw: RunningGateway | { url: string }, key: string, extraHeaders?: Record<string, string>): Promise<DashboardBrowser> {
  const browser = new DashboardBrowser(gw.url, extraHeaders)
  const { res, body } = await browser.signIn(key)
  if (res.status !== 303) throw new Error(`sign-in: ${res.status} ${body.slice(0, 300)}`)
  return browser
}

/** RFC 4180 CSV into rows of fields (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      row.push(field)
      field = ''
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += ch
  }
  if (field !== '' || row.length > 0) throw new Error('CSV does not end with CRLF')
  return rows
}

/** The <tr data-value="..."> values of a table (by its data-testid), in order. */
export function rowValues(html: string, tableTestid: string): string[] {
  const table = new RegExp(`<table data-testid="${tableTestid}">([\\s\\S]*?)</table>`).exec(html)?.[1] ?? ''
  return [...table.matchAll(/<tr data-value="([^"]*)">/g)].map((m) => m[1] ?? '')
}

/** The data-value of each <td> that has one, in the row of a table whose data-value is `row`. */
export function cellValues(html: string, tableTestid: string, row: string): string[] {
  const table = new RegExp(`<table data-testid="${tableTestid}">([\\s\\S]*?)</table>`).exec(html)?.[1] ?? ''
  const tr = table.split('<tr data-value="').find((part) => part.startsWith(`${row}"`)) ?? ''
  return [...tr.split('</tr>')[0]!.matchAll(/<td class="num" data-value="([^"]*)"/g)].map((m) => m[1] ?? '')
}
