import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import type { FakeDeepSeek } from '../fakes/deepseek.js'
import type { FakeNodeHost } from '../fakes/node-host.js'
import { startGatewayStack, type GatewayStack } from '../support/stack.js'
import { teamWithKey, usageRowsOf } from '../support/gateway.js'

const SECRET = 'node-host-secret-for-tests'
let deepseek: FakeDeepSeek
let local: FakeNodeHost
let gw: RunningGateway
let stack: GatewayStack | undefined

beforeAll(async () => {
  stack = await startGatewayStack({ secret: SECRET, env: { LOCAL_MODELS: 'local-moe' } })
  ;({ deepseek, local, gw } = stack)
})

afterAll(() => stack?.close())

function client(key: string, headers?: Record<string, string>) {
  return new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, defaultHeaders: headers, maxRetries: 0 })
}

describe('chat completions through the official openai SDK', () => {
  it('serves a hosted non-streamed request and records exact usage and cost', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const sentAtMs = Date.now()
    const res = await client(key).chat.completions.create({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'hello there gateway' }] }).withResponse()
    expect(res.response.headers.get('x-moe-backend')).toBe('hosted')
    expect(res.data.choices[0]?.message.content).toBe('This is the fake DeepSeek answer.')
    const seen = deepseek.requests.at(-1)!
    const rows = await usageRowsOf(gw, teamId)
    expect(rows).toHaveLength(1)
    const row = rows[0]!
    expect(row).toMatchObject({ backend: 'hosted', status: 200, streamed: false, fellBack: false, usageEstimated: false, requestedModel: 'deepseek-flash' })
    expect(row.promptTokens).toBe(seen.usage!.prompt_tokens)
    expect(row.cacheMissTokens).toBe(seen.usage!.prompt_cache_miss_tokens)
    expect(row.completionTokens).toBe(seen.usage!.completion_tokens)
    expect(row.reasoningTokens).toBe(seen.usage!.completion_tokens_details.reasoning_tokens)
    expect(row.costNanoUsd).toBeGreaterThan(0)
    expect(row.id).toBe(res.response.headers.get('x-request-id'))
    // Time-ordered: the id starts with the ms it was made in (src/auth/request-id.ts).
    const madeAtMs = parseInt(row.id.slice(4, 16), 16)
    expect(madeAtMs).toBeGreaterThanOrEqual(sentAtMs)
    expect(madeAtMs).toBeLessThanOrEqual(Date.now())
  })

  it('streams hosted chunks, hides the usage chunk the client did not ask for, and still meters it', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const stream = await client(key).chat.completions.create({ model: 'deepseek-reasoner', messages: [{ role: 'user', content: 'think about it' }], stream: true })
    let content = ''
    let reasoning = ''
    let sawUsage = false
    for await (const chunk of stream) {
      if (chunk.usage) sawUsage = true
      const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined
      content += delta?.content ?? ''
      reasoning += delta?.reasoning_content ?? ''
    }
    expect(sawUsage).toBe(false)
    expect(content).toBe('This is the fake DeepSeek answer.')
    expect(reasoning.length).toBeGreaterThan(0)
    const upstream = deepseek.requests.at(-1)!
    expect((upstream.body as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage).toBe(true)
    expect((upstream.body as { model: string; thinking?: unknown }).model).toBe('deepseek-flash')
    expect((upstream.body as { thinking?: unknown }).thinking).toEqual({ type: 'enabled' })
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ streamed: true, status: 200, usageEstimated: false })
    expect(row!.reasoningTokens).toBe(upstream.usage!.completion_tokens_details.reasoning_tokens)
    expect(row!.reasoningTokens).toBeGreaterThan(0)
    expect(row!.ttftMs).not.toBeNull()
  })

  it('passes the usage chunk through when the client asks for it', async () => {
    const { key } = await teamWithKey(gw, { mode: 'hosted' })
    const stream = await client(key).chat.completions.create({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'count me' }], stream: true, stream_options: { include_usage: true } })
    let usage: OpenAI.CompletionUsage | undefined
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage
    expect(usage?.prompt_tokens).toBe(deepseek.requests.at(-1)!.usage!.prompt_tokens)
  })

  it('passes unknown fields and tool calls through untouched', async () => {
    const { key } = await teamWithKey(gw, { mode: 'hosted' })
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]
    const res = await client(key).chat.completions.create({
      model: 'deepseek-v4-pro',
      messages: [{ role: 'user', content: 'please call tool for Paris' }],
      tools,
      // @ts-expect-error fields the SDK does not know must still reach DeepSeek
      user_id: 'u-42', reasoning_effort: 'high', some_future_field: { nested: [1, 2] },
    })
    const body = deepseek.requests.at(-1)!.body as Record<string, unknown>
    expect(body.user_id).toBe('u-42')
    expect(body.some_future_field).toEqual({ nested: [1, 2] })
    expect(body.tools).toEqual(tools)
    expect(res.choices[0]?.finish_reason).toBe('tool_calls')
    expect(res.choices[0]?.message.tool_calls?.[0]).toMatchObject({ type: 'function' })
  })

  it('sends local traffic to node-host, signed, and lists both backends in /v1/models', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local' })
    const res = await client(key).chat.completions.create({ model: 'local-moe', messages: [{ role: 'user', content: 'hi box' }] }).withResponse()
    expect(res.response.headers.get('x-moe-backend')).toBe('local')
    expect(res.data.choices[0]?.message.content).toBe('Local answer from the box.')
    expect(local.requests.at(-1)!.verified).toBeUndefined()
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'local', upstreamModel: 'local-moe', cacheHitTokens: 3, costNanoUsd: 0 })
    const models = await client(key).models.list()
    const ids = models.data.map((m) => m.id)
    expect(ids).toEqual(expect.arrayContaining(['deepseek-flash', 'deepseek-v4-pro', 'deepseek-chat', 'local-moe']))
  })
})
