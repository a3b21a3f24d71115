import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** OpenAI's error `type` values, by status class. */
export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'api_error'
  | 'upstream_error'

export interface OpenAIErrorBody {
  error: { message: string; type: OpenAIErrorType; code: string; param?: string | null }
}

export function typeForStatus(status: number): OpenAIErrorType {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'not_found_error'
  if (status === 429) return 'rate_limit_error'
  if (status === 402) return 'insufficient_quota'
  if (status >= 400 && status < 500) return 'invalid_request_error'
  if (status === 502 || status === 503 || status === 504) return 'upstream_error'
  return 'api_error'
}

export function openAIErrorBody(status: number, code: string, message: string, param?: string): OpenAIErrorBody {
  return { error: { message, type: typeForStatus(status), code, ...(param ? { param } : {}) } }
}

/**
 * The one way routes answer with an error.
 * @example return openAIError(c, 401, 'invalid_api_key', 'Invalid API key')
 */
export function openAIError(c: Context, status: ContentfulStatusCode, code: string, message: string, param?: string): Response {
  return c.json(openAIErrorBody(status, code, message, param), status)
}

/** Same, without a Hono context (for backends and fallbacks). */
export function openAIErrorResponse(status: number, code: string, message: string, headers?: HeadersInit): Response {
  const h = new Headers(headers)
  h.set('content-type', 'application/json')
  return new Response(JSON.stringify(openAIErrorBody(status, code, message)), { status, headers: h })
}
