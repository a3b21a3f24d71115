import type { HostShare } from '../metering/local-cost.js'
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
 * Names the host that served a pooled response, for the usage row's backend_host. Never sent to
 * clients: the gateway builds its own response headers.
 */
export const POOL_HOST_HEADER = 'x-moe-pool-host'

/** A pooled response also carries its request's share of the host, for the usage row. */
export interface PooledResponse extends UpstreamResponse {
  readonly hostShare: HostShare
}

/** The host share of a response the pool served; undefined for any other backend's. */
export function hostShareOf(res: UpstreamResponse): HostShare | undefined {
  return 'hostShare' in res ? (res as PooledResponse).hostShare : undefined
}

/**
 * The response, naming its host (POOL_HOST_HEADER) and calling `done` once when its body has been read to the end, failed or was dropped:
 * the pool counts a request in flight on its host until then.
 */
export function pooledResponse(res: UpstreamResponse, host: string, done: () => void, hostShare: HostShare): PooledResponse {
  let body: ReadableStream<Uint8Array> | null | undefined
  return {
    hostShare,
    ok: res.ok,
    status: res.status,
    headers: { get: (name) => (name.toLowerCase() === POOL_HOST_HEADER ? host : res.headers.get(name)) },
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
