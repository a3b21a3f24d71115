import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'
import type { RunningGateway } from '../../src/node.js'
import { ADMIN_KEY, startTestGateway, uniqueName } from '../support/gateway.js'

async function cliJson<T>(argv: string[]): Promise<T> {
  const r = await cli([...argv, '--json'])
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.err}`)
  return JSON.parse(r.out) as T
}

interface Key {
  id: string
  key: string
  allowed_models: string[] | null
  allowed_backends: string[] | null
  role: string
}
interface AuditPage {
  data: Array<{ action: string; actor_key_id: string; actor_role: string; target: string }>
}

let gw: RunningGateway
beforeAll(async () => {
  gw = await startTestGateway({ database: 'file' })
})
afterAll(async () => gw?.close())

describe('CLI: key lifecycle and the audit log', () => {
  it('on the local database: restrictions, update, rotate, and audit entries by "cli"', async () => {
    const db = ['--database', `file:${join(mkdtempSync(join(tmpdir(), 'moe-audit-')), 'g.db')}`]
    expect((await cli(['teams', 'create', 'acme', ...db])).code).toBe(0)
    const created = await cliJson<Key>(['keys', 'create', '--team', 'acme', '--name', 'lead', '--role', 'team-admin', '--models', 'deepseek-flash,deepseek-v4-pro', '--backends', 'local', ...db])
    expect(created).toMatchObject({ role: 'team-admin', allowed_models: ['deepseek-flash', 'deepseek-v4-pro'], allowed_backends: ['local'] })
    const updated = await cliJson<Key>(['keys', 'update', created.id, '--models', 'any', '--name', 'lead-2', ...db])
    expect(updated).toMatchObject({ allowed_models: null, allowed_backends: ['local'] })
    const rotated = await cli(['keys', 'rotate', created.id, '--grace', '60', ...db])
    expect(rotated.code).toBe(0)
    expect(rotated.out).toMatch(/mgw_[A-Za-z0-9_-]{43}/)
    expect(rotated.out).toContain('keeps working until')

    const audit = await cliJson<AuditPage>(['audit', 'list', '--team', 'acme', ...db])
    expect(audit.data.map((e) => [e.action, e.actor_key_id, e.actor_role])).toEqual([
      ['key.rotate', 'cli', 'admin'],
      ['key.update', 'cli', 'admin'],
      ['key.create', 'cli', 'admin'],
      ['team.create', 'cli', 'admin'],
    ])
    const human = await cli(['audit', 'list', '--limit', '2', ...db])
    expect(human.out).toContain('key.rotate')
    expect(human.out).toContain('--before aud_')
    expect(human.out).not.toContain('team.create')
  })

  it('through a running gateway with --url, as an admin and as a team-admin', async () => {
    const team = uniqueName('cli-audit')
    const asAdmin = ['--url', gw.url, '--admin-key', ADMIN_KEY]
    expect((await cli(['teams', 'create', team, ...asAdmin])).code).toBe(0)
    const lead = await cliJson<Key>(['keys', 'create', '--team', team, '--name', 'lead', '--role', 'team-admin', ...asAdmin])
    const asLead = ['--url', gw.url, '--admin-key', lead.key]
    const bot = await cliJson<Key>(['keys', 'create', '--name', 'bot', '--backends', 'hosted', ...asLead])
    const rotated = await cliJson<{ replaces: { id: string } }>(['keys', 'rotate', bot.id, '--grace', '5', ...asLead])
    expect(rotated.replaces.id).toBe(bot.id)
    const updated = await cliJson<Key>(['keys', 'update', bot.id, '--expires', 'never', ...asLead])
    expect(updated.id).toBe(bot.id)
    const audit = await cliJson<AuditPage>(['audit', 'list', ...asLead])
    expect(audit.data.slice(0, 3).map((e) => [e.action, e.actor_key_id, e.target])).toEqual([
      ['key.update', lead.id, bot.id],
      ['key.rotate', lead.id, bot.id],
      ['key.create', lead.id, bot.id],
    ])
    const refused = await cli(['teams', 'create', uniqueName('nope'), ...asLead])
    expect(refused.code).toBe(1)
    expect(refused.err).toContain('admin_required')
    const badGrace = await cli(['keys', 'rotate', lead.id, '--grace', 'soon', ...asAdmin])
    expect(badGrace.code).toBe(1)
    expect(badGrace.err).toContain('--grace')
    const tooLong = await cli(['keys', 'rotate', lead.id, '--grace', String(10 ** 9), ...asAdmin])
    expect([tooLong.code, tooLong.err.includes('invalid_grace_seconds')]).toEqual([1, true])
  })
})
