/** `/admin/rate-limits` and `moe-gateway limits`, against a real gateway on the shared sqld. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'
import type { RunningGateway } from '../../src/node.js'
import { ADMIN_KEY, adminCall, startTestGateway, teamWithKey } from '../support/gateway.js'

let gw: RunningGateway
beforeAll(async () => {
  gw = await startTestGateway()
})
afterAll(async () => gw?.close())

async function json(res: Response): Promise<Record<string, unknown> & { error?: { code: string; message: string } }> {
  return (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } }
}

describe('/admin/rate-limits', () => {
  it('sets, partly clears with null, lists and deletes a team limit and a key limit', async () => {
    const { team, teamId, keyId } = await teamWithKey(gw)
    const set = await adminCall(gw, 'PUT', '/admin/rate-limits', { team, requests_per_minute: 60, tokens_per_minute: 100_000 })
    expect(set.status).toBe(200)
    expect(await json(set)).toEqual({ scope: 'team', team, team_id: teamId, key_id: null, requests_per_minute: 60, tokens_per_minute: 100_000 })
    const cleared = await json(await adminCall(gw, 'PUT', '/admin/rate-limits', { team, tokens_per_minute: null }))
    expect(cleared).toMatchObject({ requests_per_minute: 60, tokens_per_minute: null })
    await adminCall(gw, 'PUT', '/admin/rate-limits', { key: keyId, requests_per_minute: 5 })

    const listed = await json(await adminCall(gw, 'GET', `/admin/rate-limits?team=${team}`))
    expect(listed.data).toEqual([
      { scope: 'key', team, team_id: teamId, key_id: keyId, requests_per_minute: 5, tokens_per_minute: null },
      { scope: 'team', team, team_id: teamId, key_id: null, requests_per_minute: 60, tokens_per_minute: null },
    ])
    expect((await json(await adminCall(gw, 'GET', `/admin/rate-limits?key=${keyId}`))).data).toHaveLength(1)

    expect((await adminCall(gw, 'DELETE', `/admin/rate-limits?key=${keyId}`)).status).toBe(200)
    // Clearing the last rate of a scope removes it.
    await adminCall(gw, 'PUT', '/admin/rate-limits', { team, requests_per_minute: null })
    expect((await json(await adminCall(gw, 'GET', `/admin/rate-limits?team=${team}`))).data).toEqual([])
  })

  it('answers 400 to bad values and targets, and 404 to unknown teams and keys', async () => {
    const { team } = await teamWithKey(gw)
    const cases: Array<[unknown, number, string]> = [
      [{ team, requests_per_minute: 0 }, 400, 'invalid_rate_limit'],
      [{ team, requests_per_minute: 1.5 }, 400, 'invalid_rate_limit'],
      [{ team, tokens_per_minute: '100' }, 400, 'invalid_rate_limit'],
      [{ team }, 400, 'invalid_rate_limit'],
      [{ requests_per_minute: 5 }, 400, 'invalid_rate_limit_target'],
      [{ team, key: 'key_x', requests_per_minute: 5 }, 400, 'invalid_rate_limit_target'],
      [{ team: 'no-such-team-here', requests_per_minute: 5 }, 404, 'team_not_found'],
      [{ key: 'key_nope', requests_per_minute: 5 }, 404, 'key_not_found'],
    ]
    for (const [body, status, code] of cases) {
      const res = await adminCall(gw, 'PUT', '/admin/rate-limits', body)
      expect([JSON.stringify(body), res.status, (await json(res)).error?.code]).toEqual([JSON.stringify(body), status, code])
    }
  })

  it('lets a team-admin read its own team\'s limits but not set them, and hides other teams', async () => {
    const { team } = await teamWithKey(gw)
    const other = await teamWithKey(gw)
    await adminCall(gw, 'PUT', '/admin/rate-limits', { team, requests_per_minute: 7 })
    await adminCall(gw, 'PUT', '/admin/rate-limits', { team: other.team, requests_per_minute: 9 })
    const created = await json(await adminCall(gw, 'POST', '/admin/keys', { team, name: 'lead', role: 'team-admin' }))
    const asLead = (method: string, path: string, body?: unknown) =>
      fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${created.key as string}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })

    const own = await json(await asLead('GET', '/admin/rate-limits'))
    expect(own.data).toEqual([expect.objectContaining({ team, requests_per_minute: 7 })])
    expect((await asLead('GET', `/admin/rate-limits?team=${other.team}`)).status).toBe(404)
    expect((await asLead('PUT', '/admin/rate-limits', { team, requests_per_minute: 1000 })).status).toBe(403)
    expect((await asLead('DELETE', `/admin/rate-limits?team=${team}`)).status).toBe(403)
  })
})

describe('moe-gateway limits', () => {
  it('sets, lists and clears limits on the local database', async () => {
    const db = `file:${join(mkdtempSync(join(tmpdir(), 'moe-cli-rl-')), 'g.db')}`
    expect((await cli(['teams', 'create', 'acme', '--database', db])).code).toBe(0)
    const set = await cli(['limits', 'set', '--team', 'acme', '--rpm', '60', '--tpm', '100000', '--database', db])
    expect(set).toMatchObject({ code: 0, out: 'team acme: 60 requests/min, 100000 tokens/min' })
    expect((await cli(['limits', 'set', '--team', 'acme', '--tpm', 'none', '--database', db])).out).toBe('team acme: 60 requests/min, - tokens/min')
    const listed = await cli(['limits', 'list', '--database', db])
    expect(listed.out).toMatch(/^SCOPE\s+TEAM\s+KEY\s+RPM\s+TPM\nteam\s+acme\s+-\s+60\s+-$/)
    expect((await cli(['limits', 'clear', '--team', 'acme', '--database', db])).code).toBe(0)
    expect((await cli(['limits', 'list', '--team', 'acme', '--database', db])).out).toBe('no rate limits')
  })

  it('does the same through a running gateway with --url, and reports bad values', async () => {
    const { team, keyId } = await teamWithKey(gw)
    const flags = ['--url', gw.url, '--admin-key', ADMIN_KEY]
    expect((await cli(['limits', 'set', '--key', keyId, '--rpm', '30', ...flags])).out).toBe(`key ${keyId}: 30 requests/min, - tokens/min`)
    const listed = await cli(['limits', 'list', '--team', team, '--json', ...flags])
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ scope: 'key', key_id: keyId, requests_per_minute: 30 })])
    const bad = await cli(['limits', 'set', '--key', keyId, '--rpm', 'lots', ...flags])
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('invalid_rate_limit')
    expect((await cli(['limits', 'clear', '--key', keyId, ...flags])).out).toBe(`cleared rate limits of key ${keyId}`)
    expect((await cli(['limits', 'frobnicate'])).code).toBe(2)
  })
})
