import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { waitFor } from '../support/net.js'

let deepseek: FakeDeepSeek
let gw: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  gw = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url } })
})

afterAll(async () => {
  await gw?.close()
  await deepseek?.close()
})

/** Sends a chat request and aborts it `afterMs` later, before any answer (the fake holds its headers for 10 s). */
async function leaveBeforeTheAnswer(key: string, stream: boolean, afterMs: number): Promise<void> {
  const abort = new AbortController()
  const sent = fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'deepseek-flash', stream, messages: [{ role: 'user', content: 'take your time' }], fake_behavior: { delayBeforeHeadersMs: 10_000 } }),
    signal: abort.signal,
  })
  setTimeout(() => abort.abort(), afterMs)
  await expect(sent).rejects.toThrow()
}

describe('a client that leaves before the first byte', () => {
  for (const stream of [false, true]) {
    it(`aborts the upstream at once and leaves one 499 usage row (${stream ? 'streamed' : 'not streamed'})`, async () => {
      const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
      const abortedBefore = deepseek.aborted
      const leftAt = Date.now() + 300
      await leaveBeforeTheAnswer(key, stream, 300)
      // Well before the fake's 10 s delay and the gateway's own timeouts: the client's leaving did it.
      await waitFor(() => deepseek.aborted > abortedBefore, 3000, 'upstream abort')
      expect(deepseek.requests.at(-1)!.abortedAtMs! - leftAt).toBeLessThan(2000)
      const rows = await waitFor(async () => {
        const r = await usageRowsOf(gw, teamId)
        return r.length > 0 ? r : undefined
      })
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({ status: 499, errorCode: 'client_closed_request', clientAborted: true, usageEstimated: true, streamed: stream, backend: 'hosted' })
      expect(rows[0]!.promptTokens).toBeGreaterThan(0)
    })
  }
})

describe('a client that leaves mid-stream', () => {
  it('aborts the upstream request and still leaves one estimated usage row', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const abort = new AbortController()
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'deepseek-flash',
        stream: true,
        messages: [{ role: 'user', content: 'a long answer please' }],
        fake_behavior: { contentTokens: 1000, tokenDelayMs: 15 },
      }),
      signal: abort.signal,
    })
    const reader = res.body!.getReader()
    let received = ''
    const decoder = new TextDecoder()
    while (received.split('data: ').length < 6) {
      const { value } = await reader.read()
      received += decoder.decode(value)
    }
    const abortedBefore = deepseek.aborted
    abort.abort()
    await waitFor(() => deepseek.aborted > abortedBefore, 10_000, 'upstream abort')
    const upstream = deepseek.requests.at(-1)!
    expect(upstream.chunksSent).toBeLessThan(500)
    const rows = await waitFor(async () => {
      const r = await usageRowsOf(gw, teamId)
      return r.length > 0 ? r : undefined
    })
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ status: 499, clientAborted: true, usageEstimated: true, streamed: true, backend: 'hosted' })
    expect(rows[0]!.completionTokens).toBeGreaterThan(0)
    expect(rows[0]!.promptTokens).toBeGreaterThan(0)
    expect(rows[0]!.costNanoUsd).toBeGreaterThan(0)
  })
})
