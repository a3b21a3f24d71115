/**
 * The database dies: steady traffic (8 concurrent clients, hosted via the fake DeepSeek) runs
 * against a gateway on its own sqld; sqld is SIGKILLed for 10 s in the middle and restarted on
 * the same port and data directory. Defined outcomes:
 * - a team without a budget is served throughout (its key was verified before the outage);
 * - a team with a budget gets 429 budget_unavailable while the database is down (the gateway
 *   will not risk overspending), and 200 again once it is back;
 * - after recovery and writer.flush(), the usage table holds exactly one row per request the
 *   clients made, refusals included: same set of x-request-ids, no duplicates, same statuses.
 * Wall time: ~25-30 s (4 s before, 10 s outage, recovery + 2 s after). Bound: 60 s.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { usage } from '../../src/db/schema.js'
import { silentLogger } from '../../src/log.js'
import { startGateway, type RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { ADMIN_KEY, adminCall, teamWithKey } from '../support/gateway.js'
import { waitFor } from '../support/net.js'
import { startSqld, type SqldProcess } from '../support/sqld.js'
import { SseCollector } from '../support/sse-client.js'

const BEFORE_OUTAGE_MS = 4000
const OUTAGE_MS = 10_000
const AFTER_RECOVERY_MS = 2000
const STEADY_WORKERS = 6
const BUDGET_WORKERS = 2
const CLIENT_DEADLINE_MS = 15_000

let deepseek: FakeDeepSeek
let sqld: SqldProcess
let gw: RunningGateway

beforeAll(async () => {
  // Paced answers (~10 tokens x 10 ms), so 8 clients make ~80 requests/s, not thousands.
  deepseek = await startFakeDeepSeek({ behavior: { tokenDelayMs: 10 } })
  sqld = await startSqld({ dbPath: join(mkdtempSync(join(tmpdir(), 'moe-faults-db-')), 'db') })
  gw = await startGateway({ env: { DATABASE_URL: sqld.url, ADMIN_KEY, DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url }, port: 0, log: silentLogger })
})

afterAll(async () => {
  await gw?.close()
  await sqld?.stop()
  await deepseek?.close()
})

interface Sent {
  id: string | null
  status: number
  code: string | undefined
  startedAt: number
  endedAt: number
  /** Streams: the answer ended with [DONE] and no error event. */
  complete: boolean
}

/** One request, read to the end within a deadline; what the client saw. */
async function send(key: string, stream: boolean): Promise<Sent> {
  const startedAt = Date.now()
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'deepseek-flash', stream, max_tokens: 50, messages: [{ role: 'user', content: 'still there?' }] }),
    signal: AbortSignal.timeout(CLIENT_DEADLINE_MS),
  })
  const id = res.headers.get('x-request-id')
  if (res.status === 200 && stream) {
    const sse = await new SseCollector(res, CLIENT_DEADLINE_MS).finished
    return { id, status: 200, code: sse.errorCode, startedAt, endedAt: Date.now(), complete: sse.sawDone && !sse.timedOut && sse.errorCode === undefined }
  }
  const body = (await res.json()) as { error?: { code?: string } }
  return { id, status: res.status, code: body.error?.code, startedAt, endedAt: Date.now(), complete: res.status === 200 }
}

/** A client sending one request after another (alternating stream and not) until told to stop. */
async function client(key: string, log: Sent[], stop: () => boolean): Promise<void> {
  for (let i = 0; !stop(); i++) log.push(await send(key, i % 2 === 0))
}

describe('sqld is killed for 10 s under steady traffic', () => {
  it('serves throughout, refuses budgeted requests while down, and writes exactly one row per request', async () => {
    const steady = await teamWithKey(gw, { mode: 'hosted' })
    const budgeted = await teamWithKey(gw, { mode: 'hosted' })
    expect((await adminCall(gw, 'PUT', '/admin/budgets', { team: budgeted.team, period: 'month', limit_usd: '100' })).status).toBe(200)
    // Both keys verified (and the budget read) before the outage.
    const steadyLog: Sent[] = [await send(steady.key, false)]
    const budgetLog: Sent[] = [await send(budgeted.key, false)]
    expect([steadyLog[0]!.status, budgetLog[0]!.status]).toEqual([200, 200])

    let stopping = false
    const clients = [
      ...Array.from({ length: STEADY_WORKERS }, () => client(steady.key, steadyLog, () => stopping)),
      ...Array.from({ length: BUDGET_WORKERS }, () => client(budgeted.key, budgetLog, () => stopping)),
    ]
    try {
      await new Promise((r) => setTimeout(r, BEFORE_OUTAGE_MS)) // traffic phase, not a wait for a condition
      const downAt = Date.now()
      await sqld.stop()
      await new Promise((r) => setTimeout(r, OUTAGE_MS)) // the outage itself
      expect(gw.writer.pendingRows).toBeGreaterThan(0) // rows of the outage are queued, not lost
      sqld = await startSqld({ dbPath: sqld.dbPath, port: sqld.port })
      const upAt = Date.now()
      await waitFor(() => budgetLog.some((s) => s.startedAt > upAt && s.status === 200), 20_000, 'budgeted requests served again')
      await new Promise((r) => setTimeout(r, AFTER_RECOVERY_MS))

      stopping = true
      await Promise.all(clients)

      // No budget: every request served in full, before, during and after the outage.
      expect(steadyLog.filter((s) => s.startedAt > downAt && s.endedAt < upAt).length).toBeGreaterThan(50)
      expect(steadyLog.filter((s) => s.status !== 200 || !s.complete)).toEqual([])
      // Budget: 200 or 429 budget_unavailable, nothing else; refused while the database was away.
      expect(budgetLog.filter((s) => !(s.status === 200 && s.complete) && !(s.status === 429 && s.code === 'budget_unavailable'))).toEqual([])
      expect(budgetLog.filter((s) => s.endedAt < downAt).every((s) => s.status === 200)).toBe(true)
      const duringOutage = budgetLog.filter((s) => s.startedAt > downAt + 500 && s.endedAt < upAt)
      expect(duringOutage.length).toBeGreaterThan(5)
      expect(duringOutage.every((s) => s.status === 429)).toBe(true)
    } finally {
      stopping = true
      await Promise.all(clients)
    }

    // Exactly one row per request, refusals included, once the writer has caught up.
    expect(await gw.writer.flush(30_000)).toBe(0)
    const logged = [...steadyLog, ...budgetLog]
    const rows = await gw.db.select({ id: usage.id, status: usage.status, errorCode: usage.errorCode }).from(usage).where(inArray(usage.teamId, [steady.teamId, budgeted.teamId])).all()
    expect(rows).toHaveLength(logged.length)
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length)
    const statusById = new Map(logged.map((s) => [s.id, s.status]))
    expect(statusById.size).toBe(logged.length)
    for (const row of rows) expect({ id: row.id, status: row.status }).toEqual({ id: row.id, status: statusById.get(row.id) })
    expect(rows.filter((r) => r.status === 429).every((r) => r.errorCode === 'budget_unavailable')).toBe(true)
  })
})
