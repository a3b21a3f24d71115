/**
 * node-host writes what a decode step produced as one write: the SSE writer gathers a turn's events into
 * one chunk (one socket write), with the same bytes one write per event would have sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import { createSseStream, type SseWriter } from '../../node-host/sse.js'
import { signRequest } from '../../src/signing.js'
import { TEST_SECRET, testKey } from './node-host-helpers.js'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))
const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`

/** Every chunk the stream enqueued, as text: one chunk is one res.write in production. */
async function chunksOf(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const chunks: string[] = []
  const decoder = new TextDecoder()
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return chunks
    chunks.push(decoder.decode(value))
  }
}

function sse(produce: (writer: SseWriter) => Promise<void>): ReadableStream<Uint8Array> {
  return createSseStream({ keepAliveMs: 60_000, produce, onError: (err) => ({ error: String(err) }) }).stream
}

describe('SSE writer', () => {
  it('writes the events of one turn as one chunk, byte for byte what one write per event would send', async () => {
    const chunks = await chunksOf(
      sse(async (writer) => {
        writer.data({ choice: 0, text: 'a' })
        writer.data({ choice: 1, text: 'b' })
        writer.data({ choice: 2, text: 'c' })
        await nextTurn()
        await nextTurn()
        writer.data({ choice: 0, text: 'd' })
        writer.done()
      }),
    )
    expect(chunks).toEqual([event({ choice: 0, text: 'a' }) + event({ choice: 1, text: 'b' }) + event({ choice: 2, text: 'c' }), event({ choice: 0, text: 'd' }) + 'data: [DONE]\n\n'])
  })

  it('sends pending events before passed-through bytes, and the error event after what was produced', async () => {
    const raw = new TextEncoder().encode('data: {"upstream":true}\n\n')
    expect(await chunksOf(sse(async (writer) => { writer.data({ first: true }); writer.raw(raw) }))).toEqual([event({ first: true }), 'data: {"upstream":true}\n\n'])
    expect((await chunksOf(sse(async (writer) => { writer.data({ first: true }); throw new Error('boom') }))).join('')).toBe(event({ first: true }) + event({ error: 'Error: boom' }))
  })
})

describe('node-host streams a decode step in one write (real engine)', () => {
  let host: NodeHost
  let key: CryptoKey
  const body = (fields: Record<string, unknown>) =>
    JSON.stringify({ messages: [{ role: 'user', content: 'Say letters.' }], grammar: 'root ::= [a-z] root', max_tokens: 8, seed: 7, n: 3, ...fields })

  beforeAll(async () => {
    key = await testKey()
    host = await startNodeHost({ model: await ensureTestModel({ layout: 'llama-moe' }), secret: TEST_SECRET, threads: 1, parallel: 3, contextSize: 512, maxQueue: 3 })
  })
  afterAll(() => host?.close())

  // In-process through the app, so each chunk read is one enqueue of the SSE stream (one socket write when served).
  async function post(text: string): Promise<Response> {
    const signed = await signRequest(key, { method: 'POST', pathAndQuery: '/v1/chat/completions', body: text })
    return host.app.request('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', ...signed }, body: text })
  }

  it('puts all three choices of a step in one chunk, and streams the same text as the reply not streamed', async () => {
    const chunks = await chunksOf((await post(body({ stream: true }))).body!)
    const deltas = chunks.map((chunk) =>
      chunk
        .split('\n\n')
        .filter((e) => e.startsWith('data: {'))
        .map((e) => JSON.parse(e.slice(6)) as { choices: Array<{ index: number; delta: { content?: string } }> })
        .flatMap((c) => c.choices.filter((ch) => ch.delta.content).map((ch) => ch)),
    )
    const contentChunks = deltas.filter((d) => d.length > 0)
    // 3 choices x 8 tokens in about one write per step, not one per token: the first tokens may come one
    // prompt at a time, and a choice that finishes first leaves the last steps to the others.
    expect(deltas.flat()).toHaveLength(24)
    expect(contentChunks.length).toBeLessThanOrEqual(12)
    expect(contentChunks.filter((d) => new Set(d.map((ch) => ch.index)).size === 3).length).toBeGreaterThanOrEqual(5)

    const streamed = [0, 1, 2].map((i) => deltas.flat().filter((ch) => ch.index === i).map((ch) => ch.delta.content).join(''))
    const reply = (await (await post(body({}))).json()) as { choices: Array<{ index: number; message: { content: string } }> }
    expect(streamed).toEqual(reply.choices.sort((a, b) => a.index - b.index).map((c) => c.message.content))
  })
})
