/**
 * Node only (imported by src/node.ts): the client of a @hono/node-server request is gone when its
 * response closed before it finished, which is when node-server would abort the request's signal.
 * Listening here costs one EventEmitter listener; reading the signal costs an AbortController and
 * EventTarget listeners per request, whose garbage lives long enough to be promoted.
 */
import type { HttpBindings } from '@hono/node-server'
import type { Context } from 'hono'
import { clientGoneOfSignal, type ClientGone } from '../routing/client-gone.js'

type Outgoing = HttpBindings['outgoing']

export function clientGoneOfResponse(outgoing: Outgoing): ClientGone {
  return {
    get gone() {
      return outgoing.destroyed && !outgoing.writableFinished
    },
    watch(onGone) {
      const onClose = () => {
        if (!outgoing.writableFinished) onGone()
      }
      outgoing.once('close', onClose)
      return () => outgoing.removeListener('close', onClose)
    },
  }
}

/** The gateway's `clientGone` on @hono/node-server, which hands each request its response as `c.env.outgoing` (`app.request()` in tests has none). */
export function nodeClientGone(c: Context): ClientGone {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing
  return outgoing ? clientGoneOfResponse(outgoing) : clientGoneOfSignal(c.req.raw.signal)
}
