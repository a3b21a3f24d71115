import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import type { FakeDeepSeek } from '../fakes/deepseek.js'
import type { FakeNodeHost } from '../fakes/node-host.js'
import { startGatewayStack, type GatewayStack } from '../support/stack.js'
import { adminCall, teamWithKey, uniqueName, usageRowsOf } from '../support/gateway.js'
import { chat } from './pool-support.js'

// Model aliases as data: one public name, a different model name per backend.
const SECRET = 'node-host-secret-for-alias-tests'
const LOCAL_GGUF = 'DeepSeek-R1-Distill-Q4_K_M.gguf'
let deepseek: FakeDeepSeek
let box: FakeNodeHost
let gw: RunningGateway
let stack: GatewayStack | undefined

beforeAll(async () => {
  stack = await startGatewayStack({ secret: SECRET, localAs: 'pool' })
  ;({ deepseek, local: box, gw } = stack)
})

afterAll(() => stack?.close())

const modelIds = async (key: string) => ((await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)
const lastLocalModel = () => box.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)?.body.model
const lastHostedModel = () => (deepseek.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)?.body as { model?: string } | undefined)?.model

describe('model aliases', () => {
  it("maps an alias to each backend's model, lists it, and forgets it when deleted", async () => {
    const alias = uniqueName('deepseek-r1')
    const put = await adminCall(gw, 'PUT', `/admin/models/aliases/${alias}`, { local_model: LOCAL_GGUF, hosted_model: 'deepseek-v4-pro' })
    expect(put.status).toBe(200)
    expect(await put.json()).toMatchObject({ alias, local_model: LOCAL_GGUF, hosted_model: 'deepseek-v4-pro' })
    const listed = (await (await adminCall(gw, 'GET', '/admin/models/aliases')).json()) as { data: Array<{ alias: string }> }
    expect(listed.data.map((a) => a.alias)).toContain(alias)

    const local = await teamWithKey(gw, { mode: 'local' })
    const hosted = await teamWithKey(gw, { mode: 'hosted' })
    expect(await modelIds(local.key)).toContain(alias)

    const viaLocal = await chat(gw, local.key, { model: alias })
    expect(viaLocal.status).toBe(200)
    await viaLocal.text()
    expect(lastLocalModel()).toBe(LOCAL_GGUF)

    const viaHosted = await chat(gw, hosted.key, { model: alias })
    expect(viaHosted.status).toBe(200)
    await viaHosted.text()
    expect(lastHostedModel()).toBe('deepseek-v4-pro')
    const [row] = await usageRowsOf(gw, hosted.teamId)
    expect(row).toMatchObject({ requestedModel: alias, upstreamModel: 'deepseek-v4-pro' })
    expect(row!.costNanoUsd).toBeGreaterThan(0) // priced as the model that served it

    expect((await adminCall(gw, 'DELETE', `/admin/models/aliases/${alias}`)).status).toBe(200)
    expect(await modelIds(local.key)).not.toContain(alias)
    expect((await chat(gw, hosted.key, { model: alias })).status).toBe(404)
    expect((await adminCall(gw, 'DELETE', `/admin/models/aliases/${alias}`)).status).toBe(404)
  })

  it('refuses a backend the alias has no model for, and falls to the one it has', async () => {
    const alias = uniqueName('hosted-only')
    expect((await adminCall(gw, 'PUT', `/admin/models/aliases/${alias}`, { hosted_model: 'deepseek-flash' })).status).toBe(200)
    const local = await teamWithKey(gw, { mode: 'local' })
    const refused = await chat(gw, local.key, { model: alias })
    expect(refused.status).toBe(404)
    expect(((await refused.json()) as { error: { code: string; message: string } }).error.message).toContain('no local model')
    const localFirst = await teamWithKey(gw, { mode: 'local-first' })
    const served = await chat(gw, localFirst.key, { model: alias })
    expect(served.headers.get('x-moe-backend')).toBe('hosted')
    await served.text()
    expect(lastHostedModel()).toBe('deepseek-flash')
  })

  it("holds budget for an alias at its hosted model's price", async () => {
    const alias = uniqueName('pro')
    expect((await adminCall(gw, 'PUT', `/admin/models/aliases/${alias}`, { hosted_model: 'deepseek-v4-pro' })).status).toBe(200)
    const { team, key } = await teamWithKey(gw, { mode: 'hosted' })
    const budget = await adminCall(gw, 'PUT', '/admin/budgets', { team, period: 'month', limit_usd: '0.000001' })
    expect(budget.status).toBe(200)
    const res = await chat(gw, key, { model: alias })
    expect(res.status).toBe(429)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('budget_exceeded')
  })

  it('validates aliases and leaves them to gateway admins', async () => {
    expect((await adminCall(gw, 'PUT', '/admin/models/aliases/deepseek-flash', { local_model: 'x' })).status).toBe(400)
    expect((await adminCall(gw, 'PUT', `/admin/models/aliases/${uniqueName('a')}`, { hosted_model: 'gpt-4' })).status).toBe(400)
    expect((await adminCall(gw, 'PUT', `/admin/models/aliases/${uniqueName('a')}`, {})).status).toBe(400)
    const { team } = await teamWithKey(gw)
    const created = await adminCall(gw, 'POST', '/admin/keys', { team, name: 'ta', role: 'team-admin' })
    const { key } = (await created.json()) as { key: string }
    const res = await fetch(`${gw.url}/admin/models/aliases/${uniqueName('a')}`, { method: 'PUT', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ local_model: 'x' }) })
    expect(res.status).toBe(403)
  })
})
