import { HOSTED_MODELS, hostedBody, hostedModelFor } from '../routing/models.js'
import type { Backend, FetchLike } from './backend.js'

/**
 * The hosted DeepSeek API (OpenAI wire format, `POST {base}/chat/completions`).
 * @example createHostedBackend({ baseUrl: 'https://api.deepseek.com', apiKey, fetch })
 */
export function createHostedBackend(opts: { baseUrl: string; apiKey: string; fetch: FetchLike }): Backend {
  const url = `${opts.baseUrl}/chat/completions`
  const authorization = `Bearer ${opts.apiKey}`
  return {
    name: 'hosted',
    prepare(body, model) {
      const hosted = hostedModelFor(model)
      if (!hosted) return { ok: false, status: 404, code: 'model_not_found', message: `The model '${model}' does not exist or you do not have access to it.` }
      return { ok: true, body: hostedBody(body, hosted) }
    },
    send({ body, signal }) {
      return opts.fetch(url, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(body),
        signal,
      })
    },
    modelIds: () => Object.keys(HOSTED_MODELS),
  }
}
