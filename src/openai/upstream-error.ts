import type { SendResult } from '../routing/send-with-fallback.js'
import { openAIErrorBody, type OpenAIErrorBody } from './errors.js'

const MESSAGES: Record<string, string> = {
  timeout: 'The backend did not answer in time',
  connect_error: 'The backend could not be reached',
  empty_stream: 'The backend answered with an empty stream',
  stream_broken: 'The backend stream broke before its first event',
}

function upstreamErrorBody(text: string | undefined): OpenAIErrorBody | undefined {
  if (!text) return undefined
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } }
    const error = parsed?.error
    if (!error || typeof error.message !== 'string') return undefined
    const code = typeof error.code === 'string' || typeof error.code === 'number' ? String(error.code) : typeof error.type === 'string' ? error.type : 'upstream_error'
    // The param says which field to fix (node-host's unsupported_parameter names it): keep it.
    const body = openAIErrorBody(0, code, error.message, typeof error.param === 'string' ? error.param.slice(0, 100) : undefined)
    if (typeof error.type === 'string') body.error.type = error.type as OpenAIErrorBody['error']['type']
    return body
  } catch {
    return undefined
  }
}

/**
 * The client's answer when every backend failed: the upstream's own OpenAI-style error
 * where it sent one (status and message kept, so clients react as they would to DeepSeek),
 * else a gateway error (502 unreachable, 504 timeout).
 */
export function failedUpstreamResponse(result: Extract<SendResult, { kind: 'failed' }>, headers: Record<string, string>): { response: Response; errorCode: string } {
  const fromUpstream = upstreamErrorBody(result.bodyText)
  const isHttpError = result.code.startsWith('status_')
  const status = result.status
  const body = fromUpstream ?? openAIErrorBody(status, isHttpError ? 'upstream_error' : `upstream_${result.code}`, MESSAGES[result.code] ?? `The backend answered with status ${result.status}`)
  headers['content-type'] = 'application/json'
  if (result.retryAfter) headers['retry-after'] = result.retryAfter
  return { response: new Response(JSON.stringify(body), { status, headers }), errorCode: body.error.code }
}
