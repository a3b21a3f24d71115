/**
 * A client that reads a long stream slowly must slow the upstream down (backpressure), not make
 * the gateway buffer the difference. The fake DeepSeek here waits for 'drain' like a real server,
 * so how much it managed to send while the client was paused shows how much the gateway buffered.
 * Bound: ~30 s.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'

const PIECES = 16_000
const PIECE_CHARS = 4_096 // ~64 MB in all: far beyond the loopback socket buffers on the way (a few MB each)
let deepseek: FakeDeepSeek
let gw: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek({ thinkingByDefault: false })
  gw = await startTestGateway({ env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url } })
})

afterAll(async () => {
  await gw?.close()
  await deepseek?.close()
})

describe('a slow reader', () => {
  it('stalls the upstream while paused, then gets the whole stream and one exact usage row', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'hosted' })
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'deepseek-flash', stream: true, messages: [{ role: 'user', content: 'a lot please' }], fake_behavior: { contentTokens: PIECES, pieceChars: PIECE_CHARS, respectBackpressure: true } }),
    })
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    onTestFinished(() => reader.cancel().catch(() => {}))
    let received = (await reader.read()).value!.byteLength
    const upstream = deepseek.requests.at(-1)!
    // Paused: let the pipeline fill up until the upstream stops making progress.
    let last = -1
    const deadline = Date.now() + 8000
    while (upstream.chunksSent !== last && Date.now() < deadline) {
      last = upstream.chunksSent
      await new Promise((r) => setTimeout(r, 500))
    }
    const sentWhilePaused = upstream.chunksSent
    // What stalled is held in kernel socket buffers (client, gateway, upstream; ~8 MB measured), not in the gateway.
    expect(sentWhilePaused, `${sentWhilePaused} of ${PIECES} chunks sent while the client was paused`).toBeLessThan(PIECES * 0.4)
    // Resumed: everything arrives.
    const decoder = new TextDecoder()
    let tail = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      received += value.byteLength
      tail = (tail + decoder.decode(value, { stream: true })).slice(-64)
    }
    expect(tail.trimEnd().endsWith('data: [DONE]')).toBe(true)
    expect(received).toBeGreaterThan(PIECES * PIECE_CHARS)
    const [row] = await usageRowsOf(gw, teamId)
    expect(row).toMatchObject({ status: 200, usageEstimated: false, completionTokens: upstream.usage!.completion_tokens })
  })
})
