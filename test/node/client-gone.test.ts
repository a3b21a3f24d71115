import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHostedBackend } from '../../src/backends/hosted.js'
import { clientGoneOfSignal } from '../../src/routing/client-gone.js'
import { sendWithFallback } from '../../src/routing/send-with-fallback.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { waitFor } from '../support/net.js'

// The Workers way to hear a client leave (its request's signal), with the global fetch Workers use;
// the Node entry's way is covered end to end in gateway-disconnect.test.ts.
let deepseek: FakeDeepSeek

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
})

afterAll(async () => {
  await deepseek?.close()
})

function slowRequest(stream: boolean) {
  // The body is the hosted backend's JSON string; Node's DOM types do not take a Uint8Array<ArrayBufferLike> as BodyInit (workerd's do).
  const backend = createHostedBackend({ baseUrl: deepseek.url, apiKey: DEFAULT_FAKE_API_KEY, fetch: (url, init) => fetch(url, init as RequestInit) })
  const body = { model: 'deepseek-v4-flash', stream, messages: [{ role: 'user', content: 'slowly' }], fake_behavior: { delayBeforeHeadersMs: 10_000 } }
  return { backend, body }
}

describe('clientGoneOfSignal', () => {
  it('reports a signal aborted before the call as gone, and never calls watch back after unwatch', () => {
    const client = new AbortController()
    const gone = clientGoneOfSignal(client.signal)
    let calls = 0
    const unwatch = gone.watch(() => calls++)
    unwatch()
    gone.watch(() => (calls += 10))
    expect(gone.gone).toBe(false)
    client.abort()
    expect(gone.gone).toBe(true)
    expect(calls).toBe(10)
  })

  for (const stream of [false, true]) {
    it(`lets sendWithFallback abort the upstream when the client leaves before the answer (${stream ? 'streamed' : 'not streamed'})`, async () => {
      const { backend, body } = slowRequest(stream)
      const client = new AbortController()
      const abortedBefore = deepseek.aborted
      setTimeout(() => client.abort(), 200)
      const startedAt = Date.now()
      const result = await sendWithFallback({ order: [{ backend, body }], stream, client: clientGoneOfSignal(client.signal), timeoutMs: 30_000 })
      expect(result.kind).toBe('client_gone')
      expect(Date.now() - startedAt).toBeLessThan(5000)
      await waitFor(() => deepseek.aborted > abortedBefore, 3000, 'upstream abort')
    })
  }
})
