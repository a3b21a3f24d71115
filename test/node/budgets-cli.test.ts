import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { cli } from '../support/cli.js'
import type { RunningGateway } from '../../src/node.js'
import { ADMIN_KEY, startTestGateway, teamWithKey } from '../support/gateway.js'

let gw: RunningGateway
beforeAll(async () => {
  gw = await startTestGateway()
})
afterAll(async () => gw?.close())

describe('moe-gateway budgets', () => {
  it('sets, lists and deletes a team budget on the database', async () => {
    const { team, teamId } = await teamWithKey(gw)
    const db = ['--database', inject('sqldUrl')]
    const set = await cli(['budgets', 'set', '--team', team, '--period', 'month', '--limit', '50', '--soft', '40', '--tz', 'Europe/Berlin', ...db])
    expect(set).toMatchObject({ code: 0, err: '' })
    expect(set.out).toContain(`team ${teamId}: $50.00 per month (Europe/Berlin), warning from $40.00`)
    const listed = await cli(['budgets', 'list', '--team', team, '--json', ...db])
    const [budget] = JSON.parse(listed.out) as Array<{ id: string; limit_nano_usd: number; soft_limit_nano_usd: number; spent_usd: string }>
    expect(budget).toMatchObject({ limit_nano_usd: 50_000_000_000, soft_limit_nano_usd: 40_000_000_000, spent_usd: '0.00' })
    const table = await cli(['budgets', 'list', '--team', team, ...db])
    expect(table.out).toMatch(/REMAINING[\s\S]*\$50\.00/)
    expect((await cli(['budgets', 'delete', budget!.id, ...db])).code).toBe(0)
    expect((await cli(['budgets', 'list', '--team', team, ...db])).out).toBe('no budgets')
  })

  it('works through a running gateway with --url, and reports bad values', async () => {
    const { keyId } = await teamWithKey(gw)
    const flags = ['--url', gw.url, '--admin-key', ADMIN_KEY]
    const set = await cli(['budgets', 'set', '--key', keyId, '--period', 'day', '--limit', '0.25', '--json', ...flags])
    expect(set.code).toBe(0)
    expect(JSON.parse(set.out)).toMatchObject({ scope: 'key', scope_id: keyId, limit_usd: '0.25', time_zone: 'UTC' })
    const bad = await cli(['budgets', 'set', '--key', keyId, '--period', 'fortnight', '--limit', '1', ...flags])
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('invalid_period')
    expect((await cli(['budgets', 'delete', ...flags])).code).toBe(2)
  })
})
