/**
 * The dashboard end to end in real headless Chromium: traffic through the official openai SDK,
 * then sign in, read the numbers and check them against the database, switch the backend and
 * see the next request go there, export both CSVs and parse them, and leave screenshots in
 * test/.artifacts/ for a person to look at.
 */
import { readFile } from 'node:fs/promises'
import { eq } from 'drizzle-orm'
import OpenAI from 'openai'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { usage } from '../../src/db/schema.js'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startFakeNodeHost, type FakeNodeHost } from '../fakes/node-host.js'
import { teamWithRoles, type CreatedTestKey } from '../support/admin-as.js'
import { launchBrowser, screenshot, watchPage, type PageProblems, type TestBrowser } from '../support/browser.js'
import { ADMIN_KEY, startTestGateway } from '../support/gateway.js'
import { parseCsv } from './dashboard-support.js'

const SECRET = 'node-host-secret-for-dashboard-browser'
/** Must never reach a page or an export: usage rows hold metadata only. */
const PROMPT_MARKER = 'PROMPT-TEXT-7f3a91-never-shown'

let deepseek: FakeDeepSeek
let local: FakeNodeHost
let gw: RunningGateway
let teamA: { team: { id: string; name: string }; teamAdmin: CreatedTestKey; member: CreatedTestKey }
let teamB: { team: { id: string; name: string }; teamAdmin: CreatedTestKey; member: CreatedTestKey }
const browsers: TestBrowser[] = []

const sdk = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
const ask = (content: string) => ({ model: 'deepseek-chat', messages: [{ role: 'user' as const, content }], max_tokens: 8 })

/** One chat request through the SDK; answers the backend that served it. */
async function send(key: string, opts: { stream?: boolean; backend?: 'local' | 'hosted' } = {}): Promise<string | null> {
  const headers = opts.backend ? { 'x-moe-backend': opts.backend } : undefined
  if (opts.stream) {
    const { data, response } = await sdk(key).chat.completions.create({ ...ask(`${PROMPT_MARKER} stream`), stream: true, stream_options: { include_usage: true } }, { headers }).withResponse()
    for await (const _ of data) void _
    return response.headers.get('x-moe-backend')
  }
  const { response } = await sdk(key).chat.completions.create(ask(`${PROMPT_MARKER} plain`), { headers }).withResponse()
  return response.headers.get('x-moe-backend')
}

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  local = await startFakeNodeHost({ secret: SECRET })
  gw = await startTestGateway({
    env: {
      DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY,
      DEEPSEEK_BASE_URL: deepseek.url,
      // A priced box, so local requests carry a local cost to show next to the hosted price.
      NODE_HOSTS: JSON.stringify([{ name: 'cpu-box', url: local.url, secret: SECRET, cost: { hardware_usd: '6000', amortize_months: 36, watts: 450, usd_per_kwh: '0.15' } }]),
      LOCAL_MODELS: 'deepseek-chat',
    },
  })
  teamA = await teamWithRoles(gw, 'browser-a', { backend_mode: 'hosted' })
  teamB = await teamWithRoles(gw, 'browser-b', { backend_mode: 'hosted' })
  // Team A: hosted and local, plain and streamed, from both of its keys; team B: one request.
  local.behavior = { delayMs: 120 }
  expect(await send(teamA.member.key)).toBe('hosted')
  expect(await send(teamA.member.key, { stream: true })).toBe('hosted')
  expect(await send(teamA.teamAdmin.key)).toBe('hosted')
  expect(await send(teamA.member.key, { backend: 'local' })).toBe('local')
  expect(await send(teamA.teamAdmin.key, { backend: 'local', stream: true })).toBe('local')
  expect(await send(teamB.member.key)).toBe('hosted')
  await gw.writer.flush(10_000)
}, 60_000)

afterAll(async () => {
  for (const b of browsers) await b.close()
  await gw?.close()
  await local?.close()
  await deepseek?.close()
})

async function openAs(key: string, timezoneId?: string): Promise<{ page: Page; problems: PageProblems; browser: TestBrowser }> {
  const browser = await launchBrowser({ timezoneId: timezoneId ?? 'UTC' })
  browsers.push(browser)
  const page = await browser.newPage()
  const problems = await watchPage(page)
  page.on('dialog', (d) => void d.accept())
  await page.goto(`${gw.url}/dashboard`)
  expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in')
  await page.getByTestId('api-key').fill(key)
  await Promise.all([page.waitForURL(/\/dashboard\/(team|admin)/), page.getByTestId('api-key').press('Enter')])
  return { page, problems, browser }
}

const valueOf = async (page: Page, testid: string) => Number(await page.getByTestId(testid).first().getAttribute('data-value'))
const chartsDrawn = (page: Page) => page.waitForFunction(() => document.body.dataset.chartsReady !== undefined, undefined, { timeout: 15_000 })

async function download(page: Page, testid: string): Promise<string[][]> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()])
  const path = await file.path()
  return parseCsv(await readFile(path, 'utf8'))
}

describe('dashboard in headless Chromium', () => {
  it("shows a team-admin exactly the numbers its team's traffic produced, with charts and no CSP or script errors", async () => {
    const { page, problems, browser } = await openAs(teamA.teamAdmin.key)
    await chartsDrawn(page)
    const rows = await gw.db.select().from(usage).where(eq(usage.teamId, teamA.team.id)).all()
    expect(rows).toHaveLength(5)
    const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0)
    const localRows = rows.filter((r) => r.backend === 'local')

    expect(await valueOf(page, 'total-requests')).toBe(rows.length)
    expect(await valueOf(page, 'total-prompt-tokens')).toBe(sum((r) => r.promptTokens))
    expect(await valueOf(page, 'total-cache-hit-tokens')).toBe(sum((r) => r.cacheHitTokens))
    expect(await valueOf(page, 'total-completion-tokens')).toBe(sum((r) => r.completionTokens))
    expect(await valueOf(page, 'total-reasoning-tokens')).toBe(sum((r) => r.reasoningTokens))
    expect(await valueOf(page, 'hosted-cost')).toBe(sum((r) => r.costNanoUsd))
    expect(await valueOf(page, 'local-cost')).toBe(sum((r) => r.localCostNanoUsd))
    expect(await valueOf(page, 'local-share')).toBe(localRows.length)
    expect(await valueOf(page, 'hosted-equivalent')).toBe(localRows.reduce((a, r) => a + r.hostedEquivNanoUsd, 0))
    expect(await valueOf(page, 'savings')).toBe(localRows.reduce((a, r) => a + r.hostedEquivNanoUsd - r.localCostNanoUsd, 0))
    // The traffic was real: hosted billed, the box was busy and priced, local saved money.
    expect(sum((r) => r.costNanoUsd)).toBeGreaterThan(0)
    expect(localRows.every((r) => r.localCostNanoUsd > 0 && (r.busyMs ?? 0) > 0)).toBe(true)

    // Every chart drew a canvas; the recent table lists the rows, and no prompt text anywhere.
    expect(Number(await page.evaluate(() => document.body.dataset.chartsReady))).toBeGreaterThanOrEqual(4)
    expect(await page.locator('[data-chart] canvas').count()).toBeGreaterThanOrEqual(4)
    expect(await page.locator('[data-testid="recent-requests"] tbody tr').count()).toBe(rows.length)
    const html = await page.content()
    expect(html).not.toContain(PROMPT_MARKER)
    expect(html).not.toContain(teamA.teamAdmin.key)
    expect(page.url()).not.toContain(teamA.teamAdmin.key)
    expect(html).not.toContain(teamB.team.name)

    const session = (await browser.context.cookies()).find((c) => c.httpOnly && c.value.length > 20)
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false })
    expect(session?.value).not.toContain(teamA.teamAdmin.key)
    expect(problems.all(), problems.all().join('\n')).toEqual([])
    await screenshot(page, 'dashboard-team')
  })

  it('switches the backend from the page, and the next request goes there', async () => {
    const { page, problems } = await openAs(teamA.teamAdmin.key)
    expect(await page.getByTestId('backend-mode').getAttribute('data-value')).toBe('hosted')
    await page.getByTestId('backend-mode-select').selectOption('local')
    await Promise.all([page.waitForURL(/\/dashboard\/team/), page.getByTestId('backend-mode-submit').click()])
    await expect.poll(() => page.getByTestId('backend-mode').getAttribute('data-value')).toBe('local')
    expect(await page.getByTestId('flash').textContent()).toContain('local')
    expect(await send(teamA.member.key)).toBe('local')
    // And back, so the switch is seen to move traffic both ways.
    await page.getByTestId('backend-mode-select').selectOption('hosted')
    await Promise.all([page.waitForURL(/\/dashboard\/team/), page.getByTestId('backend-mode-submit').click()])
    await expect.poll(() => page.getByTestId('backend-mode').getAttribute('data-value')).toBe('hosted')
    expect(await send(teamA.member.key)).toBe('hosted')
    expect(problems.all(), problems.all().join('\n')).toEqual([])
  })

  it('exports the usage rows and the daily rollups as CSV that match the database', async () => {
    await gw.writer.flush(10_000)
    const { page } = await openAs(teamA.teamAdmin.key)
    const rows = await gw.db.select().from(usage).where(eq(usage.teamId, teamA.team.id)).all()

    const usageCsv = await download(page, 'export-usage')
    const [head, ...lines] = usageCsv
    const col = (name: string) => head!.indexOf(name)
    expect(col('id')).toBeGreaterThanOrEqual(0)
    expect(lines.map((l) => l[col('id')]).sort()).toEqual(rows.map((r) => r.id).sort())
    for (const line of lines) {
      const row = rows.find((r) => r.id === line[col('id')])!
      expect(Number(line[col('prompt_tokens')])).toBe(row.promptTokens)
      expect(Number(line[col('cost_nano_usd')])).toBe(row.costNanoUsd)
      expect(Number(line[col('local_cost_nano_usd')])).toBe(row.localCostNanoUsd)
      expect(line[col('backend')]).toBe(row.backend)
    }
    expect(usageCsv.flat().join(',')).not.toContain(PROMPT_MARKER)

    const daily = await download(page, 'export-daily')
    const [dhead, ...days] = daily
    const total = (name: string) => days.reduce((a, d) => a + Number(d[dhead!.indexOf(name)]), 0)
    expect(total('requests')).toBe(rows.length)
    expect(total('hosted_cost_nano_usd')).toBe(rows.reduce((a, r) => a + r.costNanoUsd, 0))
    expect(total('local_cost_nano_usd')).toBe(rows.reduce((a, r) => a + r.localCostNanoUsd, 0))
    expect(total('completion_tokens')).toBe(rows.reduce((a, r) => a + r.completionTokens, 0))
  })

  it("keeps a member of team B out of team A's data through pages, query parameters and exports", async () => {
    const { page } = await openAs(teamB.member.key)
    expect(await page.getByTestId('team-name').getAttribute('data-value')).toBe(teamB.team.id)
    expect(await valueOf(page, 'total-requests')).toBe(1)
    // Asking for A's team or key by id is answered like asking for one that doesn't exist:
    // neither A's name nor any of A's usage rows shows up, on a page or in an export.
    const aRowIds = (await gw.db.select({ id: usage.id }).from(usage).where(eq(usage.teamId, teamA.team.id)).all()).map((r) => r.id)
    expect(aRowIds.length).toBeGreaterThan(0)
    const leaks = (body: string) => [teamA.team.name, teamA.member.key, ...aRowIds].filter((s) => body.includes(s))
    for (const path of [`/dashboard/team?team=${teamA.team.id}`, `/dashboard/team?key=${teamA.member.id}`, '/dashboard/admin']) {
      await page.goto(`${gw.url}${path}`)
      expect(leaks(await page.content()), path).toEqual([])
    }
    for (const path of [`/dashboard/export/usage.csv?team=${teamA.team.id}`, `/dashboard/export/usage.csv?key=${teamA.member.id}`, `/dashboard/export/daily.csv?team=${teamA.team.id}`, '/dashboard/export/usage.csv']) {
      const res = await page.request.get(`${gw.url}${path}`)
      expect(leaks(await res.text()), path).toEqual([])
    }
    // The member's own export works, and holds its own team's row only.
    const own = parseCsv(await (await page.request.get(`${gw.url}/dashboard/export/usage.csv`)).text())
    expect(own).toHaveLength(2)
  })

  it("counts days from the viewer's own midnight, taken from the browser at sign-in", async () => {
    const { page } = await openAs(teamA.teamAdmin.key, 'Asia/Tokyo')
    const label = await page.getByTestId('period-label').textContent()
    expect(label).not.toContain('UTC')
    // Tokyo is UTC+9 all year: its days start at 15:00 UTC.
    const dayStarts = await page.locator('[data-testid="savings-by-day"] tbody tr[data-value]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-value'))))
    expect(dayStarts.length).toBeGreaterThan(0)
    for (const start of dayStarts) expect(start % 86_400_000).toBe(15 * 3_600_000)
    // Links carry the offset, so an export counts the same days.
    expect(await page.getByTestId('export-daily').getAttribute('href')).toContain('tz=540')
  })

  it('gives a gateway admin every team, top spenders and node-host health', async () => {
    const { page, problems } = await openAs(ADMIN_KEY)
    if (!new URL(page.url()).pathname.startsWith('/dashboard/admin')) await page.goto(`${gw.url}/dashboard/admin`)
    await chartsDrawn(page)
    const teams = await page.getByTestId('teams').textContent()
    expect(teams).toContain(teamA.team.name)
    expect(teams).toContain(teamB.team.name)
    expect(await page.getByTestId('top-spenders').textContent()).toContain(teamA.team.name)
    expect(await page.content()).toContain('cpu-box')
    expect(problems.all(), problems.all().join('\n')).toEqual([])
    await screenshot(page, 'dashboard-admin')
  })
})
