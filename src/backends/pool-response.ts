import type { UpstreamResponse } from './backend.js'

/** A body stream that calls `done` once it ends, errors or is cancelled. */
function endingStream(inner: ReadableStream<Uint8Array>, done: () => void): ReadableStream<Uint8Array> {
  const reader = inner.getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: finished, value } = await reader.read()
          if (finished) {
            done()
            controller.close()
          } else controller.enqueue(value)
        } catch (err) {
          done()
          controller.error(err)
        }
      },
      cancel(reason) {
        done()
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
}

/**
 * The response, calling `done` once when its body has been read to the end, failed or was dropped:
 * the pool counts a request in flight on its host until then.
 */
export function responseEndingWith(res: UpstreamResponse, done: () => void): UpstreamResponse {
  let body: ReadableStream<Uint8Array> | null | undefined
  return {
    ok: res.ok,
    status: res.status,
    headers: res.headers,
    get body() {
      if (body === undefined) {
        const inner = res.body
        body = inner ? endingStream(inner, done) : null
        if (!inner) done()
      }
      return body
    },
    text: () => res.text().finally(done),
  }
}
