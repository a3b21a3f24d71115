/** The Worker's cron trigger runs usage retention in workerd, against the real sqld. */
import { exports } from 'cloudflare:workers'
import { inArray } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { usage, usageHourly } from '../../src/db/schema.js'
import { insertUsageRows } from '../../src/db/usage.js'
import { db, uniqueName } from './support.js'

const DAY = 86_400_000

interface ScheduledRunner {
  scheduled(opts: { cron?: string; scheduledTime?: number }): Promise<unknown>
}

describe('Worker: scheduled usage retention', () => {
  it('deletes raw rows older than USAGE_RETENTION_DAYS (default 90) and keeps their rollups', async () => {
    const teamId = uniqueName('retention')
    const row = (id: string, ageDays: number) => ({ id, teamId, keyId: 'k', createdAt: Date.now() - ageDays * DAY, backend: 'hosted', status: 200, promptTokens: 7, costNanoUsd: 11, latencyMs: 5 })
    const ids = [`${teamId}-old`, `${teamId}-new`]
    await insertUsageRows(db, [row(ids[0]!, 200), row(ids[1]!, 1)])

    // The handler hands the work to waitUntil, which scheduled() does not wait for: poll.
    // The typed test exports name fetch only; workerd's binding also runs the scheduled handler.
    await (exports.default as unknown as ScheduledRunner).scheduled({ cron: '17 * * * *' })
    const remaining = () => db.select({ id: usage.id }).from(usage).where(inArray(usage.id, ids)).all()
    await expect.poll(async () => (await remaining()).map((r) => r.id), { timeout: 10_000, interval: 100 }).toEqual([ids[1]])
    const rollups = await db.select().from(usageHourly).where(inArray(usageHourly.teamId, [teamId])).all()
    expect(rollups.reduce((a, r) => a + r.requests, 0)).toBe(2)
    expect(rollups.reduce((a, r) => a + r.promptTokens, 0)).toBe(14)
  })
})
