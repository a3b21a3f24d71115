/**
 * Node only (imported by src/node.ts): upstream HTTP through undici, as the gateway's FetchLike.
 */
import { Agent, type Dispatcher } from 'undici'
import type { FetchLike, UpstreamInit, UpstreamResponse } from '../backends/backend.js'
import { watchStaleSockets } from './stale-socket.js'
import { UpstreamCall } from './upstream-call.js'

// Idle keep-alive sockets are dropped after this long unless the server says how long it keeps them.
// Servers close idle connections on their own schedule, often without a `Keep-Alive: timeout=` hint:
// 5 s for Apache, cpp-httplib (llama-server) and Node (which closes 1 s after the 5 s it announces),
// 60-75 s for nginx and cloud load balancers. A client that keeps a socket longer than its server
// writes requests into connections being closed; 4 s (undici's own default) stays under all of them.
const IDLE_SOCKET_MS = 4_000
// A server's hint is honoured, less undici's 2 s margin, up to this: NAT and firewall idle timers
// (~350 s on some clouds) drop flows silently, and a request written into one hangs instead of failing.
const MAX_IDLE_SOCKET_MS = 60_000

/**
 * Upstream calls dispatched straight to undici's keep-alive pool (upstream-call.ts): measured ~0.3 ms
 * less per call than undici's WHATWG fetch, and lighter again than its `request`.
 *
 * A request that dies on a reused socket before any response byte (the server closed the idle
 * connection as the request went out; ECONNRESET, EPIPE or "other side closed") is sent again,
 * once, on a new connection. No idle timeout closes that race: the server's timer can fire
 * while the request is on the wire. It is the only failure retried here, POSTs included, as
 * the upstream never processed the request; anything else reaches the gateway's fallback as
 * before, and so does a retry that fails too.
 */
export function undiciUpstream(): FetchLike {
  // No per-origin connection cap: each stream holds its upstream connection for its whole life, so
  // a cap (it was 256) queued stream 257+ until the first-byte timeout answered it 504.
  const dispatcher = new Agent({ keepAliveTimeout: IDLE_SOCKET_MS, keepAliveMaxTimeout: MAX_IDLE_SOCKET_MS })
  // Retries go out on a connection of their own (pipelining 0: no keep-alive, one request per
  // connection): after an idle spell every pooled socket to the origin may be as stale as the first.
  const freshConnections = new Agent({ pipelining: 0 })
  const stale = watchStaleSockets()
  const send = (url: string, init: UpstreamInit, via: Dispatcher): Promise<UpstreamResponse> => {
    const target = new URL(url)
    const call = new UpstreamCall(init.signal)
    via.dispatch({ origin: target.origin, path: `${target.pathname}${target.search}`, method: init.method, headers: init.headers, body: init.body }, call)
    return call.started
  }
  return async (url, init) => {
    try {
      return await send(url, init, dispatcher)
    } catch (err) {
      if (!stale.isStaleSocketError(err) || init.signal.aborted) throw err
      return send(url, init, freshConnections)
    }
  }
}
