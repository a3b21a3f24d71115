/**
 * Node only (imported by src/node.ts): upstream HTTP through undici, as the gateway's FetchLike.
 */
import { Agent, request } from 'undici'
import type { Readable } from 'node:stream'
import type { FetchLike, UpstreamResponse } from './backends/backend.js'

/** A pull-based Web stream over a Node stream: nothing is read until the gateway asks. */
function webStreamOf(readable: Readable): ReadableStream<Uint8Array> {
  const chunks = readable[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = (await chunks.next()) as IteratorResult<Buffer>
        if (done) controller.close()
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
      },
      cancel() {
        readable.destroy()
      },
    },
    { highWaterMark: 0 },
  )
}

/**
 * Upstream calls through undici's `request` with a keep-alive pool: measured ~0.3 ms less per
 * call than undici's WHATWG fetch, which matters at the gateway's latency budget.
 */
export function undiciUpstream(): FetchLike {
  // No per-origin connection cap: each stream holds its upstream connection for its whole life, so
  // a cap (it was 256) queued stream 257+ until the first-byte timeout answered it 504.
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 })
  return async (url, init) => {
    const res = await request(url, { method: init.method, headers: init.headers, body: init.body, signal: init.signal, dispatcher })
    let body: ReadableStream<Uint8Array> | undefined
    const answer: UpstreamResponse = {
      ok: res.statusCode >= 200 && res.statusCode < 300,
      status: res.statusCode,
      headers: {
        get(name) {
          const value = res.headers[name.toLowerCase()]
          return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
        },
      },
      get body() {
        body ??= webStreamOf(res.body)
        return body
      },
      text: () => res.body.text(),
    }
    return answer
  }
}
