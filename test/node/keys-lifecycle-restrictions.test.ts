import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import type { FakeNodeHost } from '../fakes/node-host.js'
import { startGatewayStack, type GatewayStack } from '../support/stack.js'
import { callAs, createTestKey, createTestTeam, errorCode } from '../support/admin-as.js'
import { ADMIN_KEY, usageRowsOf } from '../support/gateway.js'

const SECRET = 'node-host-secret-for-tests'
let local: FakeNodeHost
let gw: RunningGateway
let stack: GatewayStack | undefined

beforeAll(async () => {
  stack = await startGatewayStack({ secret: SECRET })
  ;({ local, gw } = stack)
})

afterAll(() => stack?.close())

async function chat(key: string, model: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'restricted?' }], max_tokens: 16 }),
  })
}

describe('per-key allowed models and backends on chat completions', () => {
  it('refuses a model the key may not use with 403 model_not_allowed, and records the refusal', async () => {
    const team = await createTestTeam(gw, 'models', { backend_mode: 'hosted' })
    const key = await createTestKey(gw, { team: team.name, allowed_models: ['deepseek-flash'] })
    const refused = await chat(key.key, 'deepseek-v4-pro')
    expect([refused.status, await errorCode(refused)]).toEqual([403, 'model_not_allowed'])
    const served = await chat(key.key, 'deepseek-flash')
    expect(served.status).toBe(200)
    await served.arrayBuffer()
    const rows = await usageRowsOf(gw, team.id)
    expect(rows.map((r) => [r.keyId, r.requestedModel, r.status, r.errorCode, r.backend])).toEqual([
      [key.id, 'deepseek-v4-pro', 403, 'model_not_allowed', null],
      [key.id, 'deepseek-flash', 200, null, 'hosted'],
    ])
  })

  it('narrows the backend order to the allowed backends', async () => {
    const team = await createTestTeam(gw, 'narrow', { backend_mode: 'hosted-first' })
    const key = await createTestKey(gw, { team: team.name, allowed_backends: ['local'] })
    const before = local.requests.length
    const res = await chat(key.key, 'deepseek-flash')
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    expect(res.headers.get('x-moe-backend')).toBe('local')
    expect(local.requests.length).toBe(before + 1)
    const [row] = await usageRowsOf(gw, team.id)
    expect(row).toMatchObject({ backend: 'local', status: 200, fellBack: false })
  })

  it('refuses with 403 backend_not_allowed when no allowed backend is left, and records the refusal', async () => {
    const team = await createTestTeam(gw, 'nobackend', { backend_mode: 'hosted', allow_backend_override: true })
    const key = await createTestKey(gw, { team: team.name, allowed_backends: ['local'] })
    const refused = await chat(key.key, 'deepseek-flash')
    expect([refused.status, await errorCode(refused)]).toEqual([403, 'backend_not_allowed'])
    const override = await chat(key.key, 'deepseek-flash', { 'x-moe-backend': 'hosted' })
    expect([override.status, await errorCode(override)]).toEqual([403, 'backend_not_allowed'])
    const viaLocal = await chat(key.key, 'deepseek-flash', { 'x-moe-backend': 'local' })
    expect(viaLocal.status).toBe(200)
    await viaLocal.arrayBuffer()
    const rows = await usageRowsOf(gw, team.id)
    expect(rows.map((r) => [r.status, r.errorCode, r.backend])).toEqual([
      [403, 'backend_not_allowed', null],
      [403, 'backend_not_allowed', null],
      [200, null, 'local'],
    ])
  })

  it('applies a changed restriction at once on this process', async () => {
    const team = await createTestTeam(gw, 'patched', { backend_mode: 'hosted' })
    const key = await createTestKey(gw, { team: team.name })
    const first = await chat(key.key, 'deepseek-v4-pro')
    expect(first.status).toBe(200)
    await first.arrayBuffer()
    expect((await callAs(gw, ADMIN_KEY, 'PATCH', `/admin/keys/${key.id}`, { allowed_models: ['deepseek-flash'] })).status).toBe(200)
    expect((await chat(key.key, 'deepseek-v4-pro')).status).toBe(403)
    expect((await callAs(gw, ADMIN_KEY, 'PATCH', `/admin/keys/${key.id}`, { allowed_models: null })).status).toBe(200)
    const again = await chat(key.key, 'deepseek-v4-pro')
    expect(again.status).toBe(200)
    await again.arrayBuffer()
  })
})
