import OpenAI, { APIError } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeBehavior, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { waitFor } from '../support/net.js'

const IDLE_MS = 300
let deepseek: FakeDeepSeek
let gw: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek({ thinkingByDefault: false })
  gw = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, STREAM_IDLE_TIMEOUT_MS: String(IDLE_MS) } })
})

afterAll(async () => {
  await gw?.close()
  await deepseek?.close()
})

type StreamParams = OpenAI.ChatCompletionCreateParamsStreaming & { fake_behavior: FakeBehavior }

/** Streams through the gateway with the openai SDK; returns the content received and the error the stream ended with, if any. */
async function streamed(key: string, fake: FakeBehavior): Promise<{ content: string; error?: unknown }> {
  const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  const params: StreamParams = { model: 'deepseek-flash', stream: true, messages: [{ role: 'user', content: 'Say something slowly.' }], fake_behavior: fake }
  let content = ''
  try {
    for await (const chunk of await client.chat.completions.create(params)) content += chunk.choices[0]?.delta.content ?? ''
    return { content }
  } catch (error) {
    return { content, error }
  }
}

async function onlyRow(teamId: string) {
  const rows = await waitFor(async () => {
    const r = await usageRowsOf(gw, teamId)
    return r.length > 0 ? r : undefined
  })
  expect(rows).toHaveLength(1)
  return rows[0]!
}

describe('a committed stream that goes silent', () => {
  it('ends with an SSE error and [DONE] after STREAM_IDLE_TIMEOUT_MS, aborts the upstream and records what was streamed', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const abortedBefore = deepseek.aborted
    const startedAt = Date.now()
    // Three events (the role chunk, "Hello", " from"), then nothing, with the connection open.
    const { content, error } = await streamed(key, { contentTokens: ['Hello', ' from', ' a', ' stalled', ' stream'], hangAfterChunks: 3 })

    expect(content).toBe('Hello from')
    // The SDK raises an SSE error event as an APIError without a status, carrying the error object.
    expect(error).toBeInstanceOf(APIError)
    expect(error).toMatchObject({ status: undefined, code: 'stream_idle_timeout', type: 'upstream_error', message: `The backend sent nothing for ${IDLE_MS} ms` })
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(IDLE_MS)

    await waitFor(() => deepseek.aborted > abortedBefore, 5000, 'upstream abort')
    const upstream = deepseek.requests.at(-1)!
    expect(upstream.abortedAtMs).toBeDefined()
    expect(upstream.chunksSent).toBe(3)

    const row = await onlyRow(teamId)
    // No usage chunk arrived: estimated from what was streamed ("Hello from": 10 characters, 2 deltas -> ceil(10 / 4)).
    expect(row).toMatchObject({ status: 504, errorCode: 'stream_idle_timeout', usageEstimated: true, completionTokens: 3, streamed: true, backend: 'hosted', clientAborted: false })
    expect(row.promptTokens).toBeGreaterThan(0)
    expect(row.costNanoUsd).toBeGreaterThan(0)
  })

  it('sends the error event in the shape of a stream that broke, then [DONE]', async () => {
    const { key } = await teamWithKey(gw, { mode: 'hosted' })
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'deepseek-flash', stream: true, messages: [{ role: 'user', content: 'hi' }], fake_behavior: { hangAfterChunks: 2 } }),
    })
    expect(res.status).toBe(200)
    const events = (await res.text()).split('\n\n').filter(Boolean)
    expect(events.slice(-2)).toEqual([`data: ${JSON.stringify({ error: { message: `The backend sent nothing for ${IDLE_MS} ms`, type: 'upstream_error', code: 'stream_idle_timeout' } })}`, 'data: [DONE]'])
  })

  it('times out gaps between tokens longer than the timeout when nothing fills them', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const { content, error } = await streamed(key, { contentTokens: ['slow', ' tokens'], tokenDelayMs: IDLE_MS * 2 })
    expect(error).toMatchObject({ code: 'stream_idle_timeout' })
    expect(content).toBe('')
    expect(await onlyRow(teamId)).toMatchObject({ status: 504, errorCode: 'stream_idle_timeout' })
  })

  it('keeps a slow stream alive while keep-alive comments fill its gaps, and it completes normally', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    // Gaps half as long again as the timeout, each filled with a `: keep-alive` every third of it.
    const { content, error } = await streamed(key, { contentTokens: ['slow but alive'], tokenDelayMs: IDLE_MS * 1.5, keepAliveEveryMs: IDLE_MS / 3 })
    expect(error).toBeUndefined()
    expect(content).toBe('slow but alive')
    expect(deepseek.requests.at(-1)!.keepAlivesSent).toBeGreaterThan(0)
    expect(await onlyRow(teamId)).toMatchObject({ status: 200, errorCode: null, usageEstimated: false })
  })

  it('does not count a client that reads slowly as an idle upstream', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    // ~24 MB: more than the socket buffers between the gateway and this client hold, so the gateway stalls mid-stream.
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'deepseek-flash', stream: true, messages: [{ role: 'user', content: 'hi' }], fake_behavior: { contentTokens: 12_000, pieceChars: 2000, respectBackpressure: true } }),
    })
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let text = decoder.decode((await reader.read()).value, { stream: true })
    // The client is the slow side: it reads nothing for twice the timeout. Meanwhile the gateway reads nothing
    // from upstream either (its client's socket is full), and its stream is still open: no usage row yet.
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2))
    expect(await usageRowsOf(gw, teamId)).toHaveLength(0)
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true })
    expect(text).toContain('data: [DONE]')
    expect(text).not.toContain('stream_idle_timeout')
    expect(await onlyRow(teamId)).toMatchObject({ status: 200, errorCode: null })
  })
})
