/**
 * Whether the client that sent a request is still there, and a way to hear when it leaves: the
 * request's signal on Workers; the Node entry builds one on the response (src/node/client-gone.ts),
 * as @hono/node-server makes that signal an AbortController and EventTarget listeners per request.
 */
export interface ClientGone {
  readonly gone: boolean
  /** Calls `onGone` once if the client leaves; the function returned stops listening. */
  watch(onGone: () => void): () => void
}

/**
 * @example sendWithFallback({ ..., client: clientGoneOfSignal(c.req.raw.signal) })
 */
export function clientGoneOfSignal(signal: AbortSignal): ClientGone {
  return {
    get gone() {
      return signal.aborted
    },
    watch(onGone) {
      signal.addEventListener('abort', onGone, { once: true })
      return () => signal.removeEventListener('abort', onGone)
    },
  }
}
