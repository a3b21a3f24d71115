import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI, {
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
  UnprocessableEntityError,
} from 'openai'
import { DEEPSEEK_ERRORS, startFakeDeepSeek, type FakeBehavior, type FakeDeepSeek } from '../fakes/deepseek.js'
import { PromptCache } from '../fakes/deepseek/tokens.js'
import { waitFor } from '../support/net.js'

type NonStreaming = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming
type Streaming = OpenAI.Chat.ChatCompletionCreateParamsStreaming
type Chunk = OpenAI.Chat.ChatCompletionChunk

const KEY = 'sk-test-one'
const OTHER_KEY = 'sk-test-two'
const NO_THINKING = { thinking: { type: 'disabled' } }
const HELLO = [{ role: 'user' as const, content: 'Hello there, fake!' }] // 3 prompt tokens

let fake: FakeDeepSeek
let client: OpenAI

beforeAll(async () => {
  fake = await startFakeDeepSeek({ apiKeys: [KEY, OTHER_KEY] })
  client = new OpenAI({ baseURL: fake.url, apiKey: KEY, maxRetries: 0 })
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

// DeepSeek fields the SDK's types do not know.
const nonStream = (extra: object = {}) => ({ model: 'deepseek-flash', messages: HELLO, ...NO_THINKING, ...extra }) as NonStreaming
const streaming = (extra: object = {}) => ({ model: 'deepseek-flash', messages: HELLO, ...NO_THINKING, stream: true, ...extra }) as Streaming
/** DeepSeek's cache counter, which the SDK's CompletionUsage type does not declare. */
const hitOf = (usage: unknown) => (usage as { prompt_cache_hit_tokens?: number } | undefined)?.prompt_cache_hit_tokens
const reasoningOf = (x: unknown) => (x as { reasoning_content?: string | null }).reasoning_content
const withBehavior = (b: FakeBehavior) => ({ headers: { 'x-fake-behavior': JSON.stringify(b) } })

async function collect(stream: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return chunks
}

function rawChat(body: object, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fake.url}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

describe('non-streamed chat completions', () => {
  it('answers in DeepSeek shape with predictable usage', async () => {
    const res = await client.chat.completions.create(nonStream())
    expect(res).toMatchObject({ object: 'chat.completion', model: 'deepseek-flash', system_fingerprint: expect.any(String) })
    expect(res.choices).toEqual([{ index: 0, message: { role: 'assistant', content: 'This is the fake DeepSeek answer.' }, logprobs: null, finish_reason: 'stop' }])
    expect(res.usage).toEqual({
      prompt_tokens: 3, completion_tokens: 6, total_tokens: 9,
      prompt_tokens_details: { cached_tokens: 0 }, prompt_cache_hit_tokens: 0, prompt_cache_miss_tokens: 3,
      completion_tokens_details: { reasoning_tokens: 0 },
    })
  })

  it('serves the /v1 base URL too', async () => {
    const v1 = new OpenAI({ baseURL: `${fake.url}/v1`, apiKey: KEY, maxRetries: 0 })
    expect((await v1.chat.completions.create(nonStream())).choices[0]?.message.content).toBe('This is the fake DeepSeek answer.')
    expect(fake.requests[0]?.path).toBe('/v1/chat/completions')
  })

  it('thinks by default, as DeepSeek does, with reasoning before the answer', async () => {
    const res = await client.chat.completions.create({ model: 'deepseek-v4-pro', messages: HELLO })
    expect(reasoningOf(res.choices[0]?.message)).toBe('Thinking about the question.')
    expect(res.usage).toMatchObject({ completion_tokens: 10, completion_tokens_details: { reasoning_tokens: 4 } })
    expect(fake.requests[0]).toMatchObject({ thinking: true, servedModel: 'deepseek-v4-pro' })
  })

  it('thinks for thinking enabled or reasoning_effort, not for thinking disabled', async () => {
    const enabled = await client.chat.completions.create(nonStream({ thinking: { type: 'enabled' } }))
    const effort = await client.chat.completions.create(nonStream({ thinking: undefined, reasoning_effort: 'high' }))
    const disabled = await client.chat.completions.create(nonStream())
    expect(reasoningOf(enabled.choices[0]?.message)).toBe('Thinking about the question.')
    expect(reasoningOf(effort.choices[0]?.message)).toBe('Thinking about the question.')
    expect(reasoningOf(disabled.choices[0]?.message)).toBeUndefined()
  })

  it('answers legacy names, echoing them, with the mode the name implies', async () => {
    const reasoner = await client.chat.completions.create(nonStream({ model: 'deepseek-reasoner', thinking: { type: 'disabled' } }))
    const chat = await client.chat.completions.create(nonStream({ model: 'deepseek-chat', thinking: { type: 'enabled' } }))
    expect(reasoner.model).toBe('deepseek-reasoner')
    expect(reasoningOf(reasoner.choices[0]?.message)).toBe('Thinking about the question.')
    expect(reasoningOf(chat.choices[0]?.message)).toBeUndefined()
    expect(fake.requests.map((r) => r.servedModel)).toEqual(['deepseek-flash', 'deepseek-flash'])
  })

  it('can refuse the retired names like DeepSeek now does', async () => {
    const strict = await startFakeDeepSeek({ apiKeys: [KEY], acceptRetiredAliases: false })
    try {
      const c = new OpenAI({ baseURL: strict.url, apiKey: KEY, maxRetries: 0 })
      await expect(c.chat.completions.create(nonStream({ model: 'deepseek-chat' }))).rejects.toThrow(/Model Not Exist/)
      expect((await c.chat.completions.create(nonStream({ model: 'deepseek-v4-flash' }))).model).toBe('deepseek-v4-flash')
    } finally {
      await strict.close()
    }
  })

  it('records unknown request fields untouched', async () => {
    await client.chat.completions.create(nonStream({ user_tier: { gold: true }, top_k: 7 }))
    expect(fake.requests[0]?.body).toMatchObject({ user_tier: { gold: true }, top_k: 7, thinking: { type: 'disabled' } })
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`)
  })

  it('answers with given pieces, a given length, and stops at max_tokens', async () => {
    const pieces = await client.chat.completions.create(nonStream(), withBehavior({ contentTokens: ['Hi', '!'] }))
    const counted = await client.chat.completions.create(nonStream(), withBehavior({ contentTokens: 3 }))
    const cut = await client.chat.completions.create(nonStream({ max_tokens: 2 }))
    expect(pieces.choices[0]?.message.content).toBe('Hi!')
    expect(pieces.usage?.completion_tokens).toBe(2)
    expect(counted.choices[0]?.message.content).toBe('word1 word2 word3')
    expect(cut.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'This is' } })
  })

  it('leaves usage out when told to', async () => {
    const res = await client.chat.completions.create(nonStream(), withBehavior({ omitUsage: true }))
    expect(res.usage).toBeUndefined()
    expect(fake.requests[0]?.usage?.total_tokens).toBe(9)
  })
})

describe('cache hits', () => {
  const words = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `w${i + from}`).join(' ')

  it('counts a prefix seen earlier from the same key, in 64-token blocks', async () => {
    const first = await client.chat.completions.create(nonStream({ messages: [{ role: 'user', content: words(100) }] }))
    const again = await client.chat.completions.create(nonStream({ messages: [{ role: 'user', content: `${words(100)} more words` }] }))
    const otherKey = new OpenAI({ baseURL: fake.url, apiKey: OTHER_KEY, maxRetries: 0 })
    const other = await otherKey.chat.completions.create(nonStream({ messages: [{ role: 'user', content: words(100) }] }))
    const otherRole = await client.chat.completions.create(nonStream({ messages: [{ role: 'system', content: words(100) }] }))
    expect(first.usage).toMatchObject({ prompt_tokens: 100, prompt_cache_hit_tokens: 0, prompt_cache_miss_tokens: 100 })
    expect(again.usage).toMatchObject({ prompt_tokens: 102, prompt_cache_hit_tokens: 64, prompt_cache_miss_tokens: 38, prompt_tokens_details: { cached_tokens: 64 } })
    expect(hitOf(other.usage)).toBe(0)
    expect(hitOf(otherRole.usage)).toBe(0)
  })

  it('forgets everything on reset', async () => {
    const body = nonStream({ messages: [{ role: 'user', content: words(70) }] })
    await client.chat.completions.create(body)
    expect(hitOf((await client.chat.completions.create(body)).usage)).toBe(64)
    fake.reset()
    expect(hitOf((await client.chat.completions.create(body)).usage)).toBe(0)
  })

  it('remembers each distinct prompt once, and forgets the least recently sent first', () => {
    const cache = new PromptCache(2, 2)
    const [a, b, c] = [['u\0x', 'u\0y'], ['u\0p', 'u\0q'], ['u\0m', 'u\0n']]
    for (const p of [b, a, b, b, b]) cache.remember('k', p) // b three times more: still one entry, a stays
    expect([cache.hitTokens('k', a), cache.hitTokens('k', b)]).toEqual([2, 2])
    cache.remember('k', a) // a again: now the most recent
    cache.remember('k', c) // over the bound of 2: b, the least recent, goes
    expect([cache.hitTokens('k', a), cache.hitTokens('k', b), cache.hitTokens('k', c)]).toEqual([2, 0, 2])
    expect(cache.hitTokens('k', [...a, 'u\0z'])).toBe(2) // a prefix of a longer prompt, by scan
    expect(cache.hitTokens('other', a)).toBe(0)
    // Token boundaries count: the same characters split differently are another prompt.
    expect(cache.hitTokens('k', ['u\0xu\0y'])).toBe(0)
  })
})

describe('streamed chat completions', () => {
  it('streams role, content and finish, with no usage unless asked', async () => {
    const chunks = await collect(await client.chat.completions.create(streaming()))
    expect(chunks).toHaveLength(1 + 6 + 1)
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' })
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('This is the fake DeepSeek answer.')
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop')
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && !('usage' in c))).toBe(true)
  })

  it('sends a usage chunk with empty choices only with include_usage', async () => {
    const chunks = await collect(await client.chat.completions.create(streaming({ stream_options: { include_usage: true } })))
    const last = chunks.at(-1)
    expect(last?.choices).toEqual([])
    expect(last?.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 6, prompt_cache_miss_tokens: 3 })
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true)
  })

  it('streams reasoning deltas before content deltas when thinking', async () => {
    const chunks = await collect(await client.chat.completions.create(streaming({ thinking: { type: 'enabled' }, stream_options: { include_usage: true } })))
    const kinds = chunks.flatMap((c) => (c.choices[0] ? [reasoningOf(c.choices[0].delta) ? 'r' : c.choices[0].delta.content ? 'c' : '-'] : []))
    expect(kinds.join('')).toBe('-rrrrcccccc-')
    expect(chunks.map((c) => reasoningOf(c.choices[0]?.delta ?? {}) ?? '').join('')).toBe('Thinking about the question.')
    expect(chunks.at(-1)?.usage?.completion_tokens_details?.reasoning_tokens).toBe(4)
  })

  it('sends SSE keep-alive comments that raw readers see and the SDK skips', async () => {
    const raw = await (await rawChat(streaming(), { 'x-fake-behavior': JSON.stringify({ keepAliveCount: 2 }) })).text()
    expect(raw.startsWith(': keep-alive\n\n: keep-alive\n\ndata: {')).toBe(true)
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true)
    const chunks = await collect(await client.chat.completions.create(streaming(), withBehavior({ keepAliveCount: 3, keepAliveIntervalMs: 1 })))
    expect(chunks).toHaveLength(8)
    expect(fake.requests.at(-1)?.keepAlivesSent).toBe(3)
  })

  it('sends empty lines while a non-streamed request waits, as DeepSeek does', async () => {
    const res = await rawChat(nonStream(), { 'x-fake-behavior': JSON.stringify({ keepAliveCount: 3 }) })
    const raw = await res.text()
    expect(raw.startsWith('\n\n\n{')).toBe(true)
    expect(JSON.parse(raw).object).toBe('chat.completion')
    expect((await client.chat.completions.create(nonStream(), withBehavior({ keepAliveCount: 2 }))).object).toBe('chat.completion')
  })

  it('paces chunks by tokenDelayMs', async () => {
    const started = Date.now()
    await collect(await client.chat.completions.create(streaming(), withBehavior({ tokenDelayMs: 30, contentTokens: 3 })))
    expect(Date.now() - started).toBeGreaterThanOrEqual(5 * 30 - 5) // 6 events, 5 gaps
  })
})

describe('tool calls', () => {
  const tools = [
    { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
    { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
  ]
  const ask = 'Please call tool get_weather for Paris'
  const args = JSON.stringify({ request: ask })

  it('answers with a tool call when asked to call one', async () => {
    const res = await client.chat.completions.create(nonStream({ tools, messages: [{ role: 'user', content: ask }] }))
    const choice = res.choices[0]
    expect(choice?.finish_reason).toBe('tool_calls')
    expect(choice?.message.tool_calls).toEqual([{ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: args } }])
    expect(res.usage?.completion_tokens).toBe(Math.ceil(args.length / 8))
  })

  it('streams the tool call in index/id/name/arguments pieces', async () => {
    const chunks = await collect(await client.chat.completions.create(streaming({ tools, messages: [{ role: 'user', content: ask }] })))
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    expect(calls[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '' } })
    expect(calls.every((c) => c.index === 0)).toBe(true)
    expect(calls.map((c) => c.function?.arguments ?? '').join('')).toBe(args)
    expect(calls.length).toBeGreaterThan(2)
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls')
  })

  it('answers normally without tools or without the words', async () => {
    const noTools = await client.chat.completions.create(nonStream({ messages: [{ role: 'user', content: ask }] }))
    const noAsk = await client.chat.completions.create(nonStream({ tools }))
    expect(noTools.choices[0]?.finish_reason).toBe('stop')
    expect(noAsk.choices[0]?.message.tool_calls).toBeUndefined()
  })
})

describe('errors as the SDK sees them', () => {
  it.each([
    [400, BadRequestError, 'invalidFormat'],
    [401, AuthenticationError, 'authNoSuchUser'],
    [402, APIError, 'insufficientBalance'],
    [422, UnprocessableEntityError, 'invalidParameters'],
    [429, RateLimitError, 'rateLimitReached'],
    [500, InternalServerError, 'serverError'],
    [503, InternalServerError, 'serverOverloaded'],
  ] as const)('%i -> %s', async (status, ErrorClass, row) => {
    const err = await client.chat.completions.create(nonStream(), withBehavior({ status, retryAfterSeconds: 7 })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ErrorClass)
    const apiError = err as APIError
    expect(apiError.status).toBe(status)
    expect(apiError.type).toBe(DEEPSEEK_ERRORS[row].type)
    expect(apiError.error).toMatchObject({ message: expect.stringContaining(DEEPSEEK_ERRORS[row].message), param: null })
    expect(apiError.headers?.get('retry-after')).toBe(status === 429 ? '7' : null)
  })

  it('402 has no dedicated SDK class', async () => {
    const err = await client.chat.completions.create(nonStream(), withBehavior({ status: 402 })).catch((e: unknown) => e)
    expect(Object.getPrototypeOf(err)).toBe(APIError.prototype)
  })

  it('rejects a wrong key, a missing key and an unknown model', async () => {
    const wrong = new OpenAI({ baseURL: fake.url, apiKey: 'sk-nope-abcd', maxRetries: 0 })
    await expect(wrong.chat.completions.create(nonStream())).rejects.toThrow(AuthenticationError)
    await expect(wrong.chat.completions.create(nonStream())).rejects.toThrow('Authentication Fails, Your api key: ****abcd is invalid')
    const missing = await fetch(`${fake.url}/chat/completions`, { method: 'POST', body: JSON.stringify(nonStream()) })
    expect(missing.status).toBe(401)
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/auth header format/)
    await expect(client.chat.completions.create(nonStream({ model: 'gpt-4o' }))).rejects.toThrow(BadRequestError)
    expect(fake.requests.at(-1)?.status).toBe(400)
  })

  it('400 for a body that is not JSON, 422 for one that lacks messages', async () => {
    const notJson = await fetch(`${fake.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: '{"model":' })
    expect(notJson.status).toBe(400)
    const noMessages = await rawChat({ model: 'deepseek-flash' })
    expect(noMessages.status).toBe(422)
    expect(await noMessages.json()).toEqual({ error: { message: 'Failed to deserialize the JSON body into the target type: missing field `messages`', type: 'invalid_request_error', param: null, code: 'invalid_request_error' } })
  })

  it('a per-request behavior does not leak into a parallel request', async () => {
    const [failed, fine] = await Promise.allSettled([
      client.chat.completions.create(nonStream(), withBehavior({ status: 503, delayBeforeHeadersMs: 30 })),
      client.chat.completions.create(nonStream()),
    ])
    expect(failed.status).toBe('rejected')
    expect(fine.status).toBe('fulfilled')
  })

  it('takes the server behavior, then a body field, then the header', async () => {
    fake.setBehavior({ status: 500 })
    await expect(client.chat.completions.create(nonStream())).rejects.toThrow(InternalServerError)
    await expect(client.chat.completions.create(nonStream({ fake_behavior: { status: 402 } }))).rejects.toMatchObject({ status: 402 })
    await expect(client.chat.completions.create(nonStream({ fake_behavior: { status: 402 } }), withBehavior({ status: 429 }))).rejects.toThrow(RateLimitError)
    fake.reset()
    await expect(client.chat.completions.create(nonStream())).resolves.toBeDefined()
  })
})

describe('broken and abandoned answers', () => {
  it('destroys the socket mid-stream after closeAfterChunks events', async () => {
    const stream = await client.chat.completions.create(streaming(), withBehavior({ closeAfterChunks: 3 }))
    await expect(collect(stream)).rejects.toThrow()
    expect(fake.requests[0]?.chunksSent).toBe(3)
    expect(fake.aborted).toBe(0) // the fake hung up, not the client
  })

  it('sends a chunk that is not JSON at malformedChunkAt', async () => {
    const raw = await (await rawChat(streaming(), { 'x-fake-behavior': JSON.stringify({ malformedChunkAt: 2 }) })).text()
    const payloads = raw.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6))
    expect(() => JSON.parse(payloads[1]!)).not.toThrow()
    expect(() => JSON.parse(payloads[2]!)).toThrow()
    await expect(collect(await client.chat.completions.create(streaming(), withBehavior({ malformedChunkAt: 2 })))).rejects.toThrow()
  })

  it('breaks non-streamed answers too', async () => {
    // Headers arrive, then the socket dies before the body.
    await expect(client.chat.completions.create(nonStream(), withBehavior({ closeAfterChunks: 0 }))).rejects.toThrow('terminated')
    expect(fake.requests[0]?.status).toBe(200)
    expect(fake.requests[0]?.completedAtMs).toBeUndefined()
    await expect(client.chat.completions.create(nonStream(), withBehavior({ malformedChunkAt: 0 }))).rejects.toThrow()
  })

  it('records a client that gives up on a hanging stream', async () => {
    const controller = new AbortController()
    const stream = await client.chat.completions.create(streaming(), { ...withBehavior({ hangBeforeFirstToken: true, keepAliveCount: 1 }), signal: controller.signal })
    controller.abort()
    expect(await collect(stream)).toEqual([]) // the SDK ends an aborted stream quietly
    await waitFor(() => fake.aborted === 1, 2000, 'the fake to see the abort')
    expect(fake.requests[0]).toMatchObject({ abortedAtMs: expect.any(Number), chunksSent: 0, keepAlivesSent: 1 })
  })

  it('records a client that stops reading mid-stream', async () => {
    const stream = await client.chat.completions.create(streaming(), withBehavior({ tokenDelayMs: 20, contentTokens: 50 }))
    let seen = 0
    for await (const _chunk of stream) if (++seen === 3) break
    await waitFor(() => fake.aborted === 1, 2000, 'the fake to see the abort')
    expect(fake.requests[0]?.chunksSent).toBeLessThan(10)
    expect(fake.requests[0]?.completedAtMs).toBeUndefined()
  })

  it('records a client that times out before the headers', async () => {
    const impatient = new OpenAI({ baseURL: fake.url, apiKey: KEY, maxRetries: 0, timeout: 100 })
    await expect(impatient.chat.completions.create(nonStream(), withBehavior({ delayBeforeHeadersMs: 5000 }))).rejects.toThrow(APIConnectionTimeoutError)
    await waitFor(() => fake.aborted === 1, 2000, 'the fake to see the abort')
    expect(fake.requests[0]?.status).toBeUndefined()
  })
})

describe('models and balance', () => {
  it('lists the current models', async () => {
    const models = []
    for await (const m of client.models.list()) models.push(m)
    expect(models).toEqual([
      { id: 'deepseek-flash', object: 'model', owned_by: 'deepseek' },
      { id: 'deepseek-v4-pro', object: 'model', owned_by: 'deepseek' },
    ])
    expect((await fetch(`${fake.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200)
  })

  it('reports the balance as strings, behind auth', async () => {
    const res = await fetch(`${fake.url}/user/balance`, { headers: { authorization: `Bearer ${KEY}` } })
    expect(await res.json()).toEqual({
      is_available: true,
      balance_infos: [{ currency: 'USD', total_balance: '110.00', granted_balance: '10.00', topped_up_balance: '100.00' }],
    })
    expect((await fetch(`${fake.url}/user/balance`)).status).toBe(401)
  })
})
