import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'
import type { RunningGateway } from '../../src/node.js'
import { ADMIN_KEY, startTestGateway, uniqueName } from '../support/gateway.js'

let gw: RunningGateway
beforeAll(async () => {
  gw = await startTestGateway({ database: 'file' })
})
afterAll(async () => gw?.close())

describe('moe-gateway CLI', () => {
  it('creates a team and a key on the local database; the key works on a gateway over that database', async () => {
    const db = `file:${join(mkdtempSync(join(tmpdir(), 'moe-cli-')), 'g.db')}`
    expect((await cli(['teams', 'create', 'acme', '--database', db])).code).toBe(0)
    const created = await cli(['keys', 'create', '--team', 'acme', '--name', 'ci-bot', '--database', db, '--json'])
    expect(created.code).toBe(0)
    const key = JSON.parse(created.out) as { key: string; prefix: string; id: string }
    expect(key.key.startsWith(key.prefix)).toBe(true)
    const listed = await cli(['keys', 'list', '--team', 'acme', '--database', db])
    expect(listed.out).toContain(key.prefix)
    expect(listed.out).not.toContain(key.key) // only the prefix is ever shown again
    const other = await startTestGateway({ env: { DATABASE_URL: db } })
    try {
      const res = await fetch(`${other.url}/v1/models`, { headers: { authorization: `Bearer ${key.key}` } })
      expect(res.status).toBe(200)
      expect((await cli(['keys', 'revoke', key.id, '--database', db])).code).toBe(0)
    } finally {
      await other.close()
    }
  })

  it('does the same through a running gateway with --url', async () => {
    const team = uniqueName('cli')
    const flags = ['--url', gw.url, '--admin-key', ADMIN_KEY]
    expect((await cli(['teams', 'create', team, ...flags])).code).toBe(0)
    const set = await cli(['teams', 'set-backend', team, 'hosted-first', '--no-allow-override', ...flags])
    expect(set.out).toContain('hosted-first')
    expect(set.out).toContain('not allowed')
    const created = await cli(['keys', 'create', '--team', team, '--name', 'bot', '--json', ...flags])
    const { id } = JSON.parse(created.out) as { id: string }
    expect((await cli(['keys', 'revoke', id, ...flags])).code).toBe(0)
    const again = await cli(['keys', 'revoke', id, ...flags])
    expect(again.code).toBe(1)
    expect(again.err).toContain('key_already_revoked')
  })

  it("sets and clears a team's auto deadline", async () => {
    const team = uniqueName('cli')
    const flags = ['--url', gw.url, '--admin-key', ADMIN_KEY]
    expect((await cli(['teams', 'create', team, ...flags])).code).toBe(0)
    expect((await cli(['teams', 'set-backend', team, 'auto', ...flags])).out).toContain('backend auto')
    expect((await cli(['teams', 'set-deadline', team, '20000', ...flags])).out).toContain('auto deadline 20000 ms')
    expect((await cli(['teams', 'set-deadline', team, 'default', ...flags])).out).toContain('auto deadline gateway default')
    expect((await cli(['teams', 'set-deadline', team, 'soon', ...flags])).code).toBe(2)
  })

  it('explains bad usage and bad values instead of failing obscurely', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2)
    const bad = await cli(['teams', 'set-backend', 'x', 'lokal', '--url', gw.url, '--admin-key', ADMIN_KEY])
    expect(bad.code).toBe(1)
    expect(bad.err).toMatch(/team_not_found|invalid_backend_mode/)
    expect((await cli(['teams', 'list', '--url', gw.url])).err).toContain('admin key')
  })
})
