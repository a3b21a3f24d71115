import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { and, desc, eq } from 'drizzle-orm'
import { csvLine, csvText } from '../../src/dashboard/csv.js'
import { usage, type UsageRow } from '../../src/db/schema.js'
import { insertUsageRows } from '../../src/db/usage.js'
import { usdDecimal } from '../../src/limits/budget-format.js'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { createTestKey, teamWithRoles } from '../support/admin-as.js'
import { startTestGateway } from '../support/gateway.js'
import { parseCsv, signedIn } from './dashboard-support.js'

const HOUR_MS = 3_600_000
/** More than two of the export's 1000-row pages, so keyset paging crosses page boundaries. */
const BULK_ROWS = 2345
const HOSTILE_MODELS = ['=HYPERLINK("http://evil.example","x")', '+cmd|calc', '-1+1', '@SUM(A1)', '\tTAB', 'comma, "quote"\nnewline']

let deepseek: FakeDeepSeek
let gw: RunningGateway
let t: Awaited<ReturnType<typeof teamWithRoles>>
let formulaKey: { id: string; key: string }

async function chat(key: string, model: string): Promise<void> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Export me' }], max_tokens: 16 }),
  })
  await res.arrayBuffer()
}

/** Synthetic rows over the last few hours: the export must read them page by page. */
function bulkRows(teamId: string, keyId: string): UsageRow[] {
  const now = Date.now()
  return Array.from({ length: BULK_ROWS }, (_, i) => ({
    id: `req_bulk_${teamId.slice(5, 13)}_${String(i).padStart(5, '0')}`,
    teamId,
    keyId,
    // Several rows share a millisecond, so the (created_at, id) tie-break is exercised.
    createdAt: now - 3 * HOUR_MS + Math.floor(i / 3) * 1000,
    requestedModel: i % 2 === 0 ? 'deepseek-flash' : 'local-moe',
    backend: i % 2 === 0 ? 'hosted' : 'local',
    backendHost: i % 2 === 0 ? null : 'box-1',
    promptTokens: 10 + (i % 7),
    cacheHitTokens: i % 5,
    cacheMissTokens: 10 + (i % 7) - (i % 5),
    completionTokens: 3 + (i % 11),
    reasoningTokens: i % 3,
    costNanoUsd: i % 2 === 0 ? 1000 + i : 0,
    localCostNanoUsd: i % 2 === 0 ? 0 : 500 + i,
    hostedEquivNanoUsd: 1000 + i,
    latencyMs: 100 + i,
    ttftMs: i % 4 === 0 ? null : 20 + i,
    status: i % 50 === 0 ? 500 : 200,
    errorCode: i % 50 === 0 ? 'upstream_error' : null,
  }))
}

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  gw = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url } })
  t = await teamWithRoles(gw, 'dash-export', { backend_mode: 'hosted' })
  formulaKey = await createTestKey(gw, { team: t.team.name, name: '=cmd|"/c calc"!A1' })
  await chat(t.member.key, 'deepseek-flash')
  for (const model of HOSTILE_MODELS) await chat(formulaKey.key, model)
  await gw.writer.flush()
  await insertUsageRows(gw.db, bulkRows(t.team.id, t.member.id))
})
afterAll(async () => {
  await gw?.close()
  await deepseek?.close()
})

const dbRows = (extra?: ReturnType<typeof eq>) => gw.db.select().from(usage).where(and(eq(usage.teamId, t.team.id), extra)).orderBy(desc(usage.createdAt), desc(usage.id)).all()

/** A text cell as the export writes it: formula starts defused. */
const guarded = (text: string | null) => (text === null ? '' : /^[=+\-@\t\r]/.test(text) ? `'${text}` : text)

describe('dashboard CSV exports', () => {
  it('streams every usage row of the period, newest first, field by field as in the database', async () => {
    const browser = await signedIn(gw, t.teamAdmin.key)
    const { res, body } = await browser.get('/dashboard/export/usage.csv?period=7d')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="usage-dash-export-[a-z0-9]+-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv"$/)
    expect(res.headers.get('content-length')).toBeNull()

    const [header, ...rows] = parseCsv(body)
    expect(header).toEqual(['id', 'created_at', 'key_id', 'key_name', 'model', 'backend', 'host', 'status', 'error_code', 'prompt_tokens', 'cache_hit_tokens', 'completion_tokens', 'reasoning_tokens', 'cost_nano_usd', 'cost_usd', 'local_cost_nano_usd', 'local_cost_usd', 'hosted_equiv_nano_usd', 'latency_ms', 'ttft_ms', 'streamed', 'fell_back', 'fallback_reason'])
    const expected = await dbRows()
    expect(expected.length).toBe(BULK_ROWS + 1 + HOSTILE_MODELS.length)
    expect(rows).toHaveLength(expected.length)
    const keyNames: Record<string, string> = { [t.member.id]: 'dev', [formulaKey.id]: '=cmd|"/c calc"!A1' }
    rows.forEach((row, i) => {
      const r = expected[i]!
      expect(row).toEqual([
        r.id,
        new Date(r.createdAt).toISOString(),
        r.keyId,
        guarded(keyNames[r.keyId] ?? ''),
        guarded(r.requestedModel),
        r.backend ?? '',
        r.backendHost ?? '',
        String(r.status),
        r.errorCode ?? '',
        String(r.promptTokens),
        String(r.cacheHitTokens),
        String(r.completionTokens),
        String(r.reasoningTokens),
        String(r.costNanoUsd),
        usdDecimal(r.costNanoUsd),
        String(r.localCostNanoUsd),
        usdDecimal(r.localCostNanoUsd),
        String(r.hostedEquivNanoUsd),
        String(r.latencyMs),
        r.ttftMs === null ? '' : String(r.ttftMs),
        String(r.streamed),
        String(r.fellBack),
        r.fallbackReason ?? '',
      ])
    })
  })

  it('defuses formulas in text cells and quotes commas, quotes and line breaks', async () => {
    const browser = await signedIn(gw, t.teamAdmin.key)
    const { body } = await browser.get(`/dashboard/export/usage.csv?key=${formulaKey.id}`)
    const rows = parseCsv(body).slice(1)
    expect(rows.map((r) => r[4]).sort()).toEqual(HOSTILE_MODELS.map(guarded).sort())
    for (const row of rows) expect(row[3]).toBe(`'=cmd|"/c calc"!A1`)
    // No text cell starts a formula once written.
    for (const line of body.split('\r\n').slice(1)) for (const cell of line.split(',')) expect(cell).not.toMatch(/^[=+@\t]/)
    expect(body).toContain('"\'=cmd|""/c calc""!A1"')
  })

  it('applies the page filters to the export', async () => {
    const browser = await signedIn(gw, t.teamAdmin.key)
    const local = parseCsv((await browser.get('/dashboard/export/usage.csv?period=7d&backend=local')).body).slice(1)
    expect(local.map((r) => r[0])).toEqual((await dbRows(eq(usage.backend, 'local'))).map((r) => r.id))
    const model = parseCsv((await browser.get('/dashboard/export/usage.csv?period=7d&model=deepseek-flash&backend=hosted')).body).slice(1)
    expect(model.length).toBe((await dbRows(and(eq(usage.requestedModel, 'deepseek-flash'), eq(usage.backend, 'hosted')))).length)
    const member = await signedIn(gw, t.member.key)
    const own = parseCsv((await member.get('/dashboard/export/usage.csv?period=7d')).body).slice(1)
    expect(own.map((r) => r[0])).toEqual((await dbRows(eq(usage.keyId, t.member.id))).map((r) => r.id))
  })

  it('exports daily totals per day, backend and model that add up to the rows', async () => {
    const browser = await signedIn(gw, t.teamAdmin.key)
    const { res, body } = await browser.get('/dashboard/export/daily.csv?period=7d')
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="daily-/)
    const [header, ...rows] = parseCsv(body)
    expect(header).toEqual(['day', 'backend', 'model', 'requests', 'errors', 'fallbacks', 'prompt_tokens', 'cache_hit_tokens', 'cache_miss_tokens', 'completion_tokens', 'reasoning_tokens', 'hosted_cost_nano_usd', 'hosted_cost_usd', 'local_cost_nano_usd', 'local_cost_usd', 'local_hosted_equiv_nano_usd', 'savings_nano_usd'])
    const expected = new Map<string, { requests: number; errors: number; prompt: number; completion: number; cost: number; localCost: number; localEquiv: number }>()
    for (const r of await dbRows()) {
      const k = [new Date(r.createdAt).toISOString().slice(0, 10), r.backend ?? '', guarded(r.requestedModel)].join('|')
      const e = expected.get(k) ?? { requests: 0, errors: 0, prompt: 0, completion: 0, cost: 0, localCost: 0, localEquiv: 0 }
      e.requests++
      if (r.status >= 400) e.errors++
      e.prompt += r.promptTokens
      e.completion += r.completionTokens
      e.cost += r.costNanoUsd
      e.localCost += r.localCostNanoUsd
      if (r.backend === 'local') e.localEquiv += r.hostedEquivNanoUsd
      expected.set(k, e)
    }
    const got = new Map(rows.map((r) => [[r[0], r[1], r[2]].join('|'), { requests: Number(r[3]), errors: Number(r[4]), prompt: Number(r[6]), completion: Number(r[9]), cost: Number(r[11]), localCost: Number(r[13]), localEquiv: Number(r[15]) }]))
    expect(got).toEqual(expected)
    for (const r of rows) expect(Number(r[16])).toBe(Number(r[15]) - Number(r[13]))
  })
})

describe('CSV cells', () => {
  it.each([
    ['plain', 'plain'],
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@x', "'@x"],
    ['\tx', "'\tx"],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\r\nlines', '"two\r\nlines"'],
    ['=a,b', `"'=a,b"`],
  ])('writes the text %j as %j', (text, cell) => {
    expect(csvText(text)).toBe(cell)
  })

  it('writes numbers, exact decimals, booleans and nulls as they are, one CRLF line', () => {
    expect(csvLine([-5, { decimal: '-0.000000005' }, true, null, 'x'])).toBe('-5,-0.000000005,true,,x\r\n')
  })
})
