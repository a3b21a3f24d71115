import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { startGatewayStack, type GatewayStack } from '../support/stack.js'
import { cli } from '../support/cli.js'
import { ADMIN_KEY, adminCall, teamWithKey } from '../support/gateway.js'
import { servedBy as servedByOf } from './pool-support.js'

// A key's own backend_mode wins over its team's.
const SECRET = 'node-host-secret-for-key-mode-tests'
let gw: RunningGateway
let stack: GatewayStack | undefined

beforeAll(async () => {
  stack = await startGatewayStack({ secret: SECRET, localAs: 'pool' })
  ;({ gw } = stack)
})

afterAll(() => stack?.close())

const servedBy = (key: string) => servedByOf(gw, key)

describe('per-key routing mode', () => {
  it("routes a key by its own backend_mode over its team's, set on create and update", async () => {
    const { team, key: teamKey } = await teamWithKey(gw, { mode: 'local-first' })
    expect(await servedBy(teamKey)).toBe('local')

    const created = await adminCall(gw, 'POST', '/admin/keys', { team, name: 'hosted-bot', backend_mode: 'hosted' })
    expect(created.status).toBe(201)
    const hostedKey = (await created.json()) as { key: string; id: string; backend_mode: string | null }
    expect(hostedKey.backend_mode).toBe('hosted')
    expect(await servedBy(hostedKey.key)).toBe('hosted')
    expect(await servedBy(teamKey)).toBe('local') // the team's other keys are untouched

    const cleared = await adminCall(gw, 'PATCH', `/admin/keys/${hostedKey.id}`, { backend_mode: null })
    expect(await cleared.json()).toMatchObject({ backend_mode: null })
    expect(await servedBy(hostedKey.key)).toBe('local')

    const bad = await adminCall(gw, 'PATCH', `/admin/keys/${hostedKey.id}`, { backend_mode: 'somewhere' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_backend_mode')
  })

  it('is set from the CLI with keys update --backend-mode, and "team" clears it', async () => {
    const { key, keyId } = await teamWithKey(gw, { mode: 'hosted-first' })
    expect(await servedBy(key)).toBe('hosted')
    const flags = ['--url', gw.url, '--admin-key', ADMIN_KEY]
    const set = await cli(['keys', 'update', keyId, '--backend-mode', 'local', ...flags])
    expect(set.code).toBe(0)
    expect(set.out).toContain('mode local')
    expect(await servedBy(key)).toBe('local')
    expect((await cli(['keys', 'update', keyId, '--backend-mode', 'team', ...flags])).code).toBe(0)
    expect(await servedBy(key)).toBe('hosted')
  })
})
