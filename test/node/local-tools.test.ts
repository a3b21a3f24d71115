/**
 * Tool calls on the local path, end to end: openai SDK -> gateway -> node-host -> llama.cpp on a tiny
 * deepseek2 model carrying DeepSeek-V3's published chat template, side by side with the hosted API
 * (the loopback fake) through the same gateway. Random weights, so what is checked is the shape and
 * that the grammar holds: names from `tools`, arguments that parse and match their schema.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readGgufHeader } from '../../node-host/gguf/reader.js'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { useVariantForModels } from '../support/shared-variant.js'
import { importSigningKey } from '../../src/signing.js'
import { postChat } from './node-host-helpers.js'

const SECRET = 'gateway-to-node-host-tools-secret'
const WEATHER = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    // Bounded lengths: random weights would otherwise write one string until max_tokens.
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 24 }, days: { type: 'integer' }, unit: { enum: ['c', 'f'] } }, required: ['city', 'days', 'unit'] },
  },
}
const LOOKUP = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { ids: { type: 'array', items: { type: 'integer' }, maxItems: 4 } }, required: ['ids'] } } }
const TOOLS = [WEATHER, LOOKUP]
const ASK = [{ role: 'user' as const, content: 'Please call tool get_weather for Paris' }]

let host: NodeHost
let chatmlHost: NodeHost
let deepseek: FakeDeepSeek
let gw: RunningGateway
let local: OpenAI
let hosted: OpenAI
let localTeamId: string
let callsBeginToken: number

beforeAll(async () => {
  const model = await ensureTestModel({ layout: 'deepseek2', template: 'deepseek-v3' })
  const chatml = await ensureTestModel({ layout: 'deepseek2' })
  await useVariantForModels([model, chatml])
  callsBeginToken = ((await readGgufHeader(model)).metadata['tokenizer.ggml.tokens'] as string[]).indexOf('<｜tool▁calls▁begin｜>')
  host = await startNodeHost({ model, modelName: 'tiny-ds', secret: SECRET, threads: 1, parallel: 4, contextSize: 2048 })
  chatmlHost = await startNodeHost({ model: chatml, modelName: 'tiny-chatml', secret: SECRET, threads: 1, parallel: 1, contextSize: 1024 })
  deepseek = await startFakeDeepSeek()
  gw = await startTestGateway({ env: { NODE_HOST_URL: host.url, NODE_HOST_SECRET: SECRET, LOCAL_MODELS: 'tiny-ds', DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url } })
  const l = await teamWithKey(gw, { mode: 'local' })
  localTeamId = l.teamId
  local = new OpenAI({ apiKey: l.key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  hosted = new OpenAI({ apiKey: (await teamWithKey(gw, { mode: 'hosted' })).key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
})

afterAll(async () => {
  await gw?.close()
  await deepseek?.close()
  await host?.close()
  await chatmlHost?.close()
})

/** Types all the way down: what two backends must agree on. */
function shapeOf(v: unknown): unknown {
  if (Array.isArray(v)) return [v.length > 0 ? shapeOf(v[0]) : 'empty']
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shapeOf(x)]))
  return v === null ? 'null' : typeof v
}

function expectWeatherArguments(args: string): void {
  const parsed = JSON.parse(args) as Record<string, unknown>
  expect(Object.keys(parsed).sort()).toEqual(['city', 'days', 'unit'])
  expect(typeof parsed.city).toBe('string')
  expect(Number.isSafeInteger(parsed.days)).toBe(true)
  expect(['c', 'f']).toContain(parsed.unit)
}

/** Tool calls from a stream, put together the way the SDK's users do: by index, arguments concatenated. */
async function collectStream(stream: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  const calls: { id?: string; type?: string; name?: string; arguments: string }[] = []
  let finish: string | null = null
  let firstDeltas = 0
  for await (const c of stream) {
    const choice = c.choices[0]
    if (!choice) continue
    for (const d of choice.delta.tool_calls ?? []) {
      const call = (calls[d.index] ??= { arguments: '' })
      if (d.id) {
        firstDeltas++
        Object.assign(call, { id: d.id, type: d.type, name: d.function?.name })
      }
      call.arguments += d.function?.arguments ?? ''
    }
    finish = choice.finish_reason ?? finish
  }
  return { calls, finish, firstDeltas }
}

describe('tool calls, local and hosted side by side', () => {
  it('answers tool_choice "required" in the same shape as hosted, with arguments that match the schema', async () => {
    for (let seed = 1; seed <= 3; seed++) {
      const mine = await local.chat.completions.create({ model: 'deepseek-flash', messages: ASK, tools: TOOLS, tool_choice: 'required', max_tokens: 400, seed })
      const theirs = await hosted.chat.completions.create({ model: 'deepseek-flash', messages: ASK, tools: TOOLS, max_tokens: 400 })
      for (const r of [mine, theirs]) {
        expect(r.choices[0]!.finish_reason).toBe('tool_calls')
        expect(r.choices[0]!.message.tool_calls!.length).toBeGreaterThan(0)
      }
      expect(shapeOf(mine.choices[0]!.message.tool_calls)).toEqual(shapeOf(theirs.choices[0]!.message.tool_calls))
      for (const call of mine.choices[0]!.message.tool_calls!) {
        if (call.type !== 'function') throw new Error('not a function call')
        expect(call.id).toMatch(/^call_[0-9a-f]{24}$/)
        expect(['get_weather', 'lookup']).toContain(call.function.name)
        if (call.function.name === 'get_weather') expectWeatherArguments(call.function.arguments)
        else expect((JSON.parse(call.function.arguments) as { ids: unknown[] }).ids.every((id) => Number.isSafeInteger(id))).toBe(true)
      }
    }
  })

  it('calls the named function, once with parallel_tool_calls false, and streams it as id+name then argument deltas', async () => {
    const stream = await local.chat.completions.create({
      model: 'deepseek-flash', messages: ASK, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'get_weather' } }, parallel_tool_calls: false, max_tokens: 400, seed: 4, stream: true,
    })
    const mine = await collectStream(stream)
    const theirs = await collectStream(await hosted.chat.completions.create({ model: 'deepseek-flash', messages: ASK, tools: TOOLS, max_tokens: 400, stream: true }))
    for (const s of [mine, theirs]) {
      expect(s.finish).toBe('tool_calls')
      expect(s.calls).toHaveLength(1)
      expect(s.firstDeltas).toBe(1)
      expect(s.calls[0]).toMatchObject({ type: 'function', name: 'get_weather' })
      expect(() => JSON.parse(s.calls[0]!.arguments)).not.toThrow()
    }
    expectWeatherArguments(mine.calls[0]!.arguments)
  })

  it('in auto mode answers in text, and switches to the call grammar once the model opens a call', async () => {
    const text = await local.chat.completions.create({ model: 'deepseek-flash', messages: ASK, tools: TOOLS, tool_choice: 'auto', max_tokens: 24, seed: 1, logit_bias: { [callsBeginToken]: -100 } })
    expect(text.choices[0]!.message.tool_calls).toBeUndefined()
    expect(text.choices[0]!.message.content!.length).toBeGreaterThan(0)
    // The model decides to call (pushed there by logit_bias); from that token on the grammar holds.
    const call = await local.chat.completions.create({
      model: 'deepseek-flash', messages: ASK, tools: [WEATHER], tool_choice: 'auto', parallel_tool_calls: false, max_tokens: 400, seed: 2, logit_bias: { [callsBeginToken]: 100 },
    })
    expect(call.choices[0]!.finish_reason).toBe('tool_calls')
    const fn = call.choices[0]!.message.tool_calls![0]!
    if (fn.type !== 'function') throw new Error('not a function call')
    expect(fn.function.name).toBe('get_weather')
    expectWeatherArguments(fn.function.arguments)
  })

  it('never calls with tool_choice "none"', async () => {
    const r = await local.chat.completions.create({ model: 'deepseek-flash', messages: ASK, tools: TOOLS, tool_choice: 'none', max_tokens: 16, seed: 1, logit_bias: { [callsBeginToken]: 100 } })
    expect(r.choices[0]!.message.tool_calls).toBeUndefined()
    expect(r.choices[0]!.finish_reason).not.toBe('tool_calls')
  })

  it('runs a tool loop: the call, the tool result, then an answer, each rendered by the template', async () => {
    const first = await local.chat.completions.create({ model: 'deepseek-flash', messages: ASK, tools: [WEATHER], tool_choice: 'required', max_tokens: 400, seed: 7 })
    const call = first.choices[0]!.message.tool_calls![0]!
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      ...ASK,
      { role: 'assistant', content: null, tool_calls: first.choices[0]!.message.tool_calls! },
      { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' },
    ]
    const answer = await local.chat.completions.create({ model: 'deepseek-flash', messages, tools: [WEATHER], max_tokens: 12, seed: 8, logit_bias: { [callsBeginToken]: -100 } })
    expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0)
    expect(answer.choices[0]!.message.tool_calls).toBeUndefined()
    // The follow-up prompt holds the first prompt, the call and the result: strictly more tokens.
    expect(answer.usage!.prompt_tokens).toBeGreaterThan(first.usage!.prompt_tokens + first.usage!.completion_tokens)
    const rows = await usageRowsOf(gw, localTeamId)
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.every((r) => r.backend === 'local' && r.status === 200 && r.completionTokens > 0)).toBe(true)
  })
})

describe('what local cannot do', () => {
  it('answers 400 unsupported_parameter for tools on a model whose template has no tool-call format', async () => {
    const res = await fetch(`${chatmlHost.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: ASK, tools: TOOLS }) })
    expect(res.status).toBe(401) // unsigned: node-host serves no one else
    const r = await postChat(chatmlHost.url, await importSigningKey(SECRET), { messages: ASK, tools: TOOLS, tool_choice: 'required' })
    expect(r.status).toBe(400)
    expect(((await r.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: 'unsupported_parameter', param: 'tools' })
  })
})
