import { importSigningKey, signRequest } from '../signing.js'
import type { Backend, FetchLike } from './backend.js'

const encoder = new TextEncoder()

/**
 * A node-host on the team's own box, reached through a tunnel. Every request is
 * signed (src/signing.ts), so an exposed node-host serves no one but this gateway.
 * It serves one model, whatever name the client asked for; the response names it.
 */
export function createNodeHostBackend(opts: { url: string; secret: string; fetch: FetchLike; modelIds?: string[] }): Backend {
  const target = new URL(`${opts.url}/v1/chat/completions`)
  const targetUrl = target.href
  const pathAndQuery = target.pathname + target.search
  const key = importSigningKey(opts.secret)
  return {
    name: 'local',
    prepare: (body) => ({ ok: true, body }),
    async send({ body, signal }) {
      const bytes = encoder.encode(JSON.stringify(body))
      const signed = await signRequest(await key, { method: 'POST', pathAndQuery, body: bytes })
      return opts.fetch(targetUrl, {
        method: 'POST',
        headers: { ...signed, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: bytes,
        signal,
      })
    },
    modelIds: () => opts.modelIds ?? [],
  }
}
