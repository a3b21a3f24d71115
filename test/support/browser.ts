/**
 * Headless Chromium for the dashboard tests: the system chromium (Debian's, installed by
 * .ci/run) driven by playwright-core, so no browser download. Each launch gets its own
 * throwaway profile, removed on close.
 *
 * @example
 *   const browser = await launchBrowser()
 *   const page = await browser.newPage()
 *   const problems = await watchPage(page)
 *   await page.goto(url)
 *   expect(problems.all()).toEqual([])
 *   await screenshot(page, 'dashboard-team')
 *   await browser.close()
 */
import { mkdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

// Quiet, offline-friendly and container-friendly: no sandbox (CI runs as root), no GPU, no
// background traffic to Google (update checks, sync, field trials) that could stall or leak.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Docker's default /dev/shm is 64 MB, small enough to crash renderers on full-page screenshots.
  '--disable-dev-shm-usage',
]

export interface TestBrowser {
  context: BrowserContext
  newPage(): Promise<Page>
  /** Closes Chromium and deletes its profile directory. */
  close(): Promise<void>
}

export async function launchBrowser(opts: { viewport?: { width: number; height: number }; timezoneId?: string } = {}): Promise<TestBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'moe-chromium-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport ?? { width: 1280, height: 900 },
      offline: false,
      serviceWorkers: 'block',
      ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}),
    })
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true })
    throw new Error(`could not start Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH, or run .ci/run to install it): ${String(err)}`)
  }
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close()
      await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 })
    },
  }
}

export interface PageProblems {
  /** console.error messages, including the browser's own (failed loads, CSP refusals). */
  consoleErrors: string[]
  /** Uncaught exceptions in the page. */
  pageErrors: string[]
  /** securitypolicyviolation events: "<directive> blocked <uri>". */
  cspViolations: string[]
  /** Everything above, prefixed by kind: what a test asserts is empty. */
  all(): string[]
}

/**
 * Records what went wrong in `page` from now on. Call before the first goto: CSP violations are
 * caught by a listener installed in every document before its own scripts run.
 */
export async function watchPage(page: Page): Promise<PageProblems> {
  const problems: PageProblems = {
    consoleErrors: [],
    pageErrors: [],
    cspViolations: [],
    all: () => [
      ...problems.cspViolations.map((m) => `csp: ${m}`),
      ...problems.pageErrors.map((m) => `exception: ${m}`),
      ...problems.consoleErrors.map((m) => `console: ${m}`),
    ],
  }
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return
    // "Failed to load resource" does not say which; the location does.
    const { url } = msg.location()
    problems.consoleErrors.push(url && !msg.text().includes(url) ? `${msg.text()} (${url})` : msg.text())
  })
  page.on('pageerror', (err) => problems.pageErrors.push(err.message))
  // Bindings and init scripts come in over the DevTools protocol, so the page's CSP does not apply to them.
  await page.exposeBinding('__reportCspViolation', (_source, violation: string) => {
    problems.cspViolations.push(violation)
  })
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (globalThis as unknown as { __reportCspViolation?: (v: string) => void }).__reportCspViolation
      report?.(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}${e.sourceFile ? ` (${e.sourceFile}:${e.lineNumber})` : ''}`)
    })
  })
  return problems
}

export const ARTIFACTS_DIR = fileURLToPath(new URL('../.artifacts/', import.meta.url))

/** Saves a full-page PNG to test/.artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  const path = join(ARTIFACTS_DIR, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}
