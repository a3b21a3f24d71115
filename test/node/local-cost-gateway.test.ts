/**
 * Local cost end to end: a gateway with a costed node-host (fake) and the fake DeepSeek, the
 * usage rows it writes (busy_ms, local_cost_nano_usd, hosted_equiv_nano_usd) and the
 * usage_hourly rollup the insert trigger keeps.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { usageHourly, type UsageRow } from '../../src/db/schema.js'
import type { RunningGateway } from '../../src/node.js'
import { isPeak } from '../../src/metering/pricing.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startFakeNodeHost, type FakeNodeHost } from '../fakes/node-host.js'
import { adminCall, startTestGateway, teamWithKey, uniqueName, usageRowsOf } from '../support/gateway.js'
import { chat, hostReportOf } from './pool-support.js'

const SECRET = 'node-host-secret-for-local-cost'
const HOST = uniqueName('costed-box')
// 0.23 USD/h of hardware + 450 W at 0.15 USD/kWh (0.0675 USD/h).
const RATE_NANO_USD_PER_HOUR = 297_500_000

// Whole nano-USD per token, different at peak and off-peak, so the expected prices below are exact by hand.
const RATES = {
  'deepseek-flash': { peak: { cacheHit: 20, cacheMiss: 400, output: 1_600 }, offPeak: { cacheHit: 10, cacheMiss: 200, output: 800 } },
  'deepseek-v4-pro': { peak: { cacheHit: 60, cacheMiss: 1_800, output: 5_000 }, offPeak: { cacheHit: 30, cacheMiss: 900, output: 2_500 } },
} as const
type PricedModel = keyof typeof RATES
const usdPerMillion = (nanoPerToken: number) => (nanoPerToken / 1000).toFixed(3)
const entry = (model: PricedModel, effectiveFrom: string, scale: number) => ({
  model,
  effectiveFrom,
  peak: { cacheHit: usdPerMillion(RATES[model].peak.cacheHit * scale), cacheMiss: usdPerMillion(RATES[model].peak.cacheMiss * scale), output: usdPerMillion(RATES[model].peak.output * scale) },
  offPeak: { cacheHit: usdPerMillion(RATES[model].offPeak.cacheHit * scale), cacheMiss: usdPerMillion(RATES[model].offPeak.cacheMiss * scale), output: usdPerMillion(RATES[model].offPeak.output * scale) },
})
// The 2099 entries must never apply to a request made today.
const PRICE_TABLE = [entry('deepseek-flash', '2026-01-01T00:00:00Z', 1), entry('deepseek-flash', '2099-01-01T00:00:00Z', 7), entry('deepseek-v4-pro', '2026-01-01T00:00:00Z', 1)]

/** What the hosted API charges for a row's tokens at the instant the request started. */
function hostedPrice(model: PricedModel, row: UsageRow): number {
  const r = isPeak(new Date(row.createdAt!)) ? RATES[model].peak : RATES[model].offPeak
  return row.cacheHitTokens! * r.cacheHit + row.cacheMissTokens! * r.cacheMiss + row.completionTokens! * r.output
}

/** rate × busy / 1 h, half up, in exact integers. */
function expectedLocalCost(busyMs: number): number {
  return Number((BigInt(RATE_NANO_USD_PER_HOUR) * BigInt(busyMs) + 1_800_000n) / 3_600_000n)
}

/** Length of the union of the rows' [start, start + latency] intervals. */
function unionOfRowsMs(rows: UsageRow[]): number {
  const spans = rows.map((r) => [r.createdAt!, r.createdAt! + r.latencyMs!] as const).sort((a, b) => a[0] - b[0])
  let total = 0
  let [start, end] = spans[0]!
  for (const [s, e] of spans.slice(1)) {
    if (s <= end) end = Math.max(end, e)
    else {
      total += end - start
      ;[start, end] = [s, e]
    }
  }
  return total + end - start
}

let deepseek: FakeDeepSeek
let box: FakeNodeHost
let gw: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  box = await startFakeNodeHost({ secret: SECRET })
  const cost = { hardware_usd_per_hour: '0.23', watts: 450, usd_per_kwh: '0.15' }
  gw = await startTestGateway({
    env: {
      DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY,
      DEEPSEEK_BASE_URL: deepseek.url,
      NODE_HOSTS: JSON.stringify([{ name: HOST, url: box.url, secret: SECRET, cost }]),
      PRICE_TABLE: JSON.stringify(PRICE_TABLE),
      HEALTH_PROBE_INTERVAL_MS: '60000',
    },
  })
})

afterAll(async () => {
  await gw?.close()
  await box?.close()
  await deepseek?.close()
})

describe('local cost and hosted equivalent on usage rows', () => {
  it("splits the node-host's busy time between overlapping requests: their busy_ms sum to the union of their times", async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local' })
    const startedAt = Date.now()
    // Sent together; the box holds one 400 ms and the other 900 ms, so ~400 ms of them overlap.
    const [short, long] = await Promise.all([
      chat(gw, key, { fake_local: { delayMs: 400 } }).then((r) => r.text()),
      chat(gw, key, { fake_local: { delayMs: 900 }, stream: true }).then((r) => r.text()),
    ])
    const wallMs = Date.now() - startedAt
    expect(short).toContain('Local answer')
    expect(long).toContain('[DONE]')

    const rows = await usageRowsOf(gw, teamId)
    expect(rows).toHaveLength(2)
    for (const row of rows) expect(row).toMatchObject({ backend: 'local', backendHost: HOST, status: 200, costNanoUsd: 0 })
    const busy = rows.map((r) => r.busyMs!)
    const busySum = busy[0]! + busy[1]!
    const latencySum = rows[0]!.latencyMs! + rows[1]!.latencyMs!
    // Each request's share is within its own time; together they cover the union, counted once.
    for (const row of rows) expect(row.busyMs!).toBeLessThanOrEqual(row.latencyMs! + 1)
    expect(busySum).toBeLessThanOrEqual(Math.min(unionOfRowsMs(rows), wallMs) + 2)
    expect(busySum).toBeGreaterThanOrEqual(unionOfRowsMs(rows) - 150)
    expect(busySum).toBeLessThan(latencySum - 250)
    // The short one shared all its time: about half of it is its own.
    const shortRow = rows.find((r) => !r.streamed)!
    expect(shortRow.busyMs!).toBeLessThan(shortRow.latencyMs! * 0.85)
  })

  it("charges each local row its busy time at its host's hourly rate, exactly", async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local' })
    await Promise.all([
      chat(gw, key, { fake_local: { delayMs: 150 } }).then((r) => r.text()),
      chat(gw, key, { fake_local: { delayMs: 250 }, stream: true }).then((r) => r.text()),
      chat(gw, key, { fake_local: { delayMs: 50 } }).then((r) => r.text()),
    ])
    const rows = await usageRowsOf(gw, teamId)
    expect(rows).toHaveLength(3)
    for (const row of rows) {
      expect(row.busyMs).toBeGreaterThan(0)
      expect(row.localCostNanoUsd).toBe(expectedLocalCost(row.busyMs!))
    }
    expect((await hostReportOf(gw, HOST)).cost_nano_usd_per_hour).toBe(RATE_NANO_USD_PER_HOUR)
  })

  it("prices a local row at its hosted model's rates in force when it started, aliases included", async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local' })
    const toPro = uniqueName('house-pro')
    const localOnly = uniqueName('house-local')
    expect((await adminCall(gw, 'PUT', `/admin/models/aliases/${toPro}`, { local_model: 'local-moe', hosted_model: 'deepseek-v4-pro' })).status).toBe(200)
    expect((await adminCall(gw, 'PUT', `/admin/models/aliases/${localOnly}`, { local_model: 'local-moe' })).status).toBe(200)
    for (const model of ['deepseek-chat', toPro, localOnly, 'house.gguf']) {
      const res = await chat(gw, key, { model })
      expect(res.status, model).toBe(200)
      await res.text()
    }
    const byModel = new Map((await usageRowsOf(gw, teamId)).map((r) => [r.requestedModel, r]))
    const flash = byModel.get('deepseek-chat')!
    expect(flash.cacheHitTokens).toBeGreaterThan(0) // the fake box reports cached tokens: both input rates are exercised
    expect(flash).toMatchObject({ backend: 'local', costNanoUsd: 0, hostedEquivNanoUsd: hostedPrice('deepseek-flash', flash) })
    expect(flash.hostedEquivNanoUsd).toBeGreaterThan(0)
    const pro = byModel.get(toPro)!
    expect(pro.hostedEquivNanoUsd).toBe(hostedPrice('deepseek-v4-pro', pro))
    expect(pro.hostedEquivNanoUsd).not.toBe(hostedPrice('deepseek-flash', pro))
    // No hosted counterpart, so no hosted price.
    expect(byModel.get(localOnly)!.hostedEquivNanoUsd).toBe(0)
    expect(byModel.get('house.gguf')!.hostedEquivNanoUsd).toBe(0)
  })

  it('gives a hosted row a hosted equivalent equal to its cost, and no busy time', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    await (await chat(gw, key, { model: 'deepseek-flash' })).text()
    await (await chat(gw, key, { model: 'deepseek-flash', stream: true })).text()
    const rows = await usageRowsOf(gw, teamId)
    expect(rows).toHaveLength(2)
    for (const row of rows) {
      expect(row).toMatchObject({ backend: 'hosted', busyMs: null, localCostNanoUsd: 0 })
      expect(row.costNanoUsd).toBe(hostedPrice('deepseek-flash', row))
      expect(row.costNanoUsd).toBeGreaterThan(0)
      expect(row.hostedEquivNanoUsd).toBe(row.costNanoUsd)
    }
  })

  it('rolls the rows up into usage_hourly with the same sums, per backend', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local', allowOverride: true })
    const hosted = { 'x-moe-backend': 'hosted' }
    const send = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'roll me up' }], max_tokens: 4, ...body }),
      }).then((r) => r.text())
    await Promise.all([send({ fake_local: { delayMs: 200 } }), send({ fake_local: { delayMs: 300 }, stream: true }), send({}, hosted), send({ stream: true }, hosted)])
    const rows = await usageRowsOf(gw, teamId)
    expect(rows).toHaveLength(4)
    const hourly = await gw.db.select().from(usageHourly).where(eq(usageHourly.teamId, teamId)).all()
    const sums = <T>(items: T[], pick: (item: T) => number) => items.reduce((total, item) => total + pick(item), 0)
    for (const backend of ['local', 'hosted'] as const) {
      const raw = rows.filter((r) => r.backend === backend)
      const rolled = hourly.filter((h) => h.backend === backend)
      expect(rolled.every((h) => h.host === (backend === 'local' ? HOST : ''))).toBe(true)
      expect({
        requests: sums(rolled, (h) => h.requests),
        promptTokens: sums(rolled, (h) => h.promptTokens),
        cacheHitTokens: sums(rolled, (h) => h.cacheHitTokens),
        cacheMissTokens: sums(rolled, (h) => h.cacheMissTokens),
        completionTokens: sums(rolled, (h) => h.completionTokens),
        reasoningTokens: sums(rolled, (h) => h.reasoningTokens),
        costNanoUsd: sums(rolled, (h) => h.costNanoUsd),
        localCostNanoUsd: sums(rolled, (h) => h.localCostNanoUsd),
        hostedEquivNanoUsd: sums(rolled, (h) => h.hostedEquivNanoUsd),
        busyMs: sums(rolled, (h) => h.busyMs),
      }).toEqual({
        requests: raw.length,
        promptTokens: sums(raw, (r) => r.promptTokens!),
        cacheHitTokens: sums(raw, (r) => r.cacheHitTokens!),
        cacheMissTokens: sums(raw, (r) => r.cacheMissTokens!),
        completionTokens: sums(raw, (r) => r.completionTokens!),
        reasoningTokens: sums(raw, (r) => r.reasoningTokens!),
        costNanoUsd: sums(raw, (r) => r.costNanoUsd!),
        localCostNanoUsd: sums(raw, (r) => r.localCostNanoUsd!),
        hostedEquivNanoUsd: sums(raw, (r) => r.hostedEquivNanoUsd!),
        busyMs: sums(raw, (r) => r.busyMs ?? 0),
      })
    }
    // Nothing summed is zero, so a column the rollup dropped would show.
    const local = hourly.filter((h) => h.backend === 'local')
    expect(sums(local, (h) => h.busyMs) * sums(local, (h) => h.localCostNanoUsd) * sums(local, (h) => h.hostedEquivNanoUsd)).toBeGreaterThan(0)
  })
})
