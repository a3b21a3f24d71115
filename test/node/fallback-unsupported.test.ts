import OpenAI, { BadRequestError } from 'openai'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { unsupportedParameterReason } from '../../src/routing/send-with-fallback.js'
import { startFakeNodeHost, type FakeLocalBehavior, type FakeNodeHost } from '../fakes/node-host.js'
import { waitFor } from '../support/net.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { hostReportOf, nodeHostsEnv, usePoolFixture } from './pool-support.js'

// node-host's 400 for a parameter its engine cannot serve (issue 12): hosted may serve it, so the
// gateway moves on where hosted is next, and never counts it against the host.
const SECRET = 'node-host-secret-for-unsupported-tests'
const { fakes, gateways, hostedEnv } = usePoolFixture()

let box: FakeNodeHost
let boxName: string
let gw: RunningGateway
let gwLocalOnly: RunningGateway

const UNSUPPORTED_TOOLS: FakeLocalBehavior = {
  status: 400,
  error: { message: "This model's chat template has no tool-call format", type: 'invalid_request_error', code: 'unsupported_parameter', param: 'tools' },
}
const TOOLS = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }]

beforeAll(async () => {
  box = await startFakeNodeHost({ secret: SECRET })
  fakes.push(box)
  // Fast and idle, so `auto` predicts local within its deadline.
  box.health = { status: 200, body: { status: 'ok', slots: { total: 1, busy: 0 }, queue: { depth: 0, max: 4 }, tokens_per_second: { prefill: 2000, decode: 80 } } }
  const { names, value } = nodeHostsEnv([{ url: box.url, secret: SECRET }])
  boxName = names[0]!
  // Two failures would open the breaker: a miscounted fallback shows within the first few requests.
  gw = await startTestGateway({ env: { ...hostedEnv(), NODE_HOSTS: value, BREAKER_FAILURES: '2', HEALTH_PROBE_INTERVAL_MS: '60000' } })
  gwLocalOnly = await startTestGateway({ env: { NODE_HOSTS: nodeHostsEnv([{ url: box.url, secret: SECRET }]).value, HEALTH_PROBE_INTERVAL_MS: '60000' } })
  gateways.push(gw, gwLocalOnly)
  await waitFor(async () => (await hostReportOf(gw, boxName)).decode_tokens_per_second === 80, 10_000, 'the probe of the box')
})

function client(g: RunningGateway, key: string) {
  return new OpenAI({ apiKey: key, baseURL: `${g.url}/v1`, maxRetries: 0 })
}

/** A chat body with tools and the fake node-host's behavior; not a literal, so the SDK's types allow `fake_local`. */
function toolsBody(fakeLocal: FakeLocalBehavior): OpenAI.ChatCompletionCreateParamsNonStreaming {
  const body = { model: 'deepseek-flash', messages: [{ role: 'user' as const, content: 'weather?' }], tools: TOOLS, max_tokens: 8, fake_local: fakeLocal }
  return body
}

const chatRequests = () => box.requests.filter((r) => r.path === '/v1/chat/completions').length

describe('unsupported_parameter from node-host', () => {
  it('falls back to hosted in local-first and says why, non-streamed', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local-first' })
    const before = chatRequests()
    const { data, response } = await client(gw, key).chat.completions.create(toolsBody(UNSUPPORTED_TOOLS)).withResponse()
    expect(response.headers.get('x-moe-backend')).toBe('hosted')
    expect(response.headers.get('x-moe-fallback-reason')).toBe('local:unsupported_parameter:tools')
    expect(data.choices[0]?.message).toBeDefined()
    expect(chatRequests()).toBe(before + 1)
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'hosted', status: 200, fellBack: true, fallbackReason: 'local:unsupported_parameter:tools', attempts: 2 })
  })

  it('falls back to hosted in local-first, streamed', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local-first' })
    const { data: stream, response } = await client(gw, key).chat.completions.create({ ...toolsBody(UNSUPPORTED_TOOLS), stream: true }).withResponse()
    expect(response.headers.get('x-moe-backend')).toBe('hosted')
    expect(response.headers.get('x-moe-fallback-reason')).toBe('local:unsupported_parameter:tools')
    let chunks = 0
    for await (const chunk of stream) if (chunk.choices.length > 0) chunks++
    expect(chunks).toBeGreaterThan(1)
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'hosted', status: 200, streamed: true, fellBack: true, fallbackReason: 'local:unsupported_parameter:tools', attempts: 2 })
  })

  it('falls back in auto when auto put local first', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'auto' })
    const { response } = await client(gw, key).chat.completions.create(toolsBody(UNSUPPORTED_TOOLS)).withResponse()
    expect(response.headers.get('x-moe-backend')).toBe('hosted')
    expect(response.headers.get('x-moe-fallback-reason')).toBe('local:unsupported_parameter:tools')
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ routeReason: 'auto:local-meets-deadline', backend: 'hosted', fellBack: true, fallbackReason: 'local:unsupported_parameter:tools', attempts: 2 })
  })

  it('names no param when node-host gave none', async () => {
    const { key } = await teamWithKey(gw, { mode: 'local-first' })
    const { response } = await client(gw, key).chat.completions.create(toolsBody({ status: 400, error: { message: 'logprobs are not supported', type: 'invalid_request_error', code: 'unsupported_parameter' } })).withResponse()
    expect(response.headers.get('x-moe-backend')).toBe('hosted')
    expect(response.headers.get('x-moe-fallback-reason')).toBe('local:unsupported_parameter')
  })

  it('still hands any other local 400 to the client, without fallback', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local-first' })
    const before = chatRequests()
    const err = await client(gw, key)
      .chat.completions.create(toolsBody({ status: 400, error: { message: 'messages[0].content must be a string', type: 'invalid_request_error', code: 'invalid_request_error', param: 'messages' } }))
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BadRequestError)
    expect((err as BadRequestError).code).toBe('invalid_request_error')
    expect((err as BadRequestError).headers.get('x-moe-backend')).toBe('local')
    expect((err as BadRequestError).headers.get('x-moe-fallback-reason')).toBeNull()
    expect(chatRequests()).toBe(before + 1)
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'local', status: 400, errorCode: 'invalid_request_error', fellBack: false, attempts: 1 })
  })

  it('hands the unsupported_parameter 400 to the client in local mode', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local' })
    const err = await client(gw, key).chat.completions.create(toolsBody(UNSUPPORTED_TOOLS)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BadRequestError)
    expect((err as BadRequestError).code).toBe('unsupported_parameter')
    expect((err as BadRequestError).param).toBe('tools')
    expect((err as BadRequestError).message).toContain('no tool-call format')
    expect((err as BadRequestError).headers.get('x-moe-backend')).toBe('local')
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ backend: 'local', status: 400, errorCode: 'unsupported_parameter', fellBack: false, attempts: 1 })
  })

  it('hands it to the client when the gateway has no hosted backend, even in local-first', async () => {
    const { key } = await teamWithKey(gwLocalOnly, { mode: 'local-first' })
    const err = await client(gwLocalOnly, key).chat.completions.create({ ...toolsBody(UNSUPPORTED_TOOLS), stream: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BadRequestError)
    expect((err as BadRequestError).code).toBe('unsupported_parameter')
  })

  it('does not count against the host: its breaker stays closed after many such fallbacks', async () => {
    const { key } = await teamWithKey(gw, { mode: 'local-first' })
    const before = chatRequests()
    for (let i = 0; i < 6; i++) {
      const { response } = await client(gw, key).chat.completions.create(toolsBody(UNSUPPORTED_TOOLS)).withResponse()
      expect(response.headers.get('x-moe-fallback-reason')).toBe('local:unsupported_parameter:tools')
    }
    // Every one reached the box: none was skipped for an open breaker.
    expect(chatRequests()).toBe(before + 6)
    const report = await hostReportOf(gw, boxName)
    expect(report).toMatchObject({ breaker: 'closed', available: true, last_error: null, in_flight: 0 })
    const plain = await client(gw, key).chat.completions.create({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'hi' }] }).withResponse()
    expect(plain.response.headers.get('x-moe-backend')).toBe('local')
  })
})

describe('unsupportedParameterReason', () => {
  it('names the param, cut to a safe token', () => {
    expect(unsupportedParameterReason('{"error":{"code":"unsupported_parameter","param":"response_format.json_schema"}}')).toBe('unsupported_parameter:response_format.json_schema')
    expect(unsupportedParameterReason(`{"error":{"code":"unsupported_parameter","param":"Tools\\r\\nX-Evil: 1${'a'.repeat(60)}"}}`)).toBe(`unsupported_parameter:toolsxevil1${'a'.repeat(29)}`)
    expect(unsupportedParameterReason('{"error":{"code":"unsupported_parameter","param":"<>"}}')).toBe('unsupported_parameter')
  })

  it('says nothing for other errors or bodies that are not JSON', () => {
    expect(unsupportedParameterReason('{"error":{"code":"invalid_request_error","param":"tools"}}')).toBeUndefined()
    expect(unsupportedParameterReason('not json')).toBeUndefined()
    expect(unsupportedParameterReason('null')).toBeUndefined()
    expect(unsupportedParameterReason('')).toBeUndefined()
  })
})
