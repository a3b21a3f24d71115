import type { ServerResponse } from 'node:http'
import type { FakeErrorStatus } from './types.js'

/**
 * DeepSeek's error bodies, in one table. DeepSeek answers OpenAI-style
 * `{error: {message, type, param, code}}`; statuses and their meaning are from the
 * "Error Codes" page (api-docs.deepseek.com/quick_start/error_codes).
 *
 * `source` says how far each string can be trusted:
 * - observed: the exact body appears in public bug reports quoting api.deepseek.com.
 * - inferred: only status and title are documented; message/type follow the page's title
 *   and OpenAI's conventions.
 */
export const DEEPSEEK_ERRORS = {
  invalidFormat: { status: 400, message: 'Invalid Format', type: 'invalid_request_error', code: 'invalid_request_error', source: 'inferred' },
  modelNotExist: { status: 400, message: 'Model Not Exist', type: 'invalid_request_error', code: 'invalid_request_error', source: 'observed' },
  /** Detail appended after ": ". */
  jsonSyntax: { status: 400, message: 'Failed to parse the request body as JSON', type: 'invalid_request_error', code: 'invalid_request_error', source: 'inferred' },
  authHeaderFormat: { status: 401, message: 'Authentication Fails (auth header format should be Bearer sk-...)', type: 'authentication_error', code: 'invalid_request_error', source: 'observed' },
  /** `{last4}` is replaced by the key's last four characters. */
  authInvalidKey: { status: 401, message: 'Authentication Fails, Your api key: ****{last4} is invalid', type: 'authentication_error', code: 'invalid_request_error', source: 'observed' },
  authNoSuchUser: { status: 401, message: 'Authentication Fails (no such user)', type: 'authentication_error', code: 'invalid_request_error', source: 'observed' },
  insufficientBalance: { status: 402, message: 'Insufficient Balance', type: 'unknown_error', code: 'invalid_request_error', source: 'observed' },
  /** Detail appended after ": ". */
  invalidParameters: { status: 422, message: 'Failed to deserialize the JSON body into the target type', type: 'invalid_request_error', code: 'invalid_request_error', source: 'observed' },
  rateLimitReached: { status: 429, message: 'Rate Limit Reached', type: 'rate_limit_error', code: 'rate_limit_exceeded', source: 'inferred' },
  serverError: { status: 500, message: 'Server Error', type: 'api_error', code: 'internal_server_error', source: 'inferred' },
  serverOverloaded: { status: 503, message: 'Server Overloaded', type: 'api_error', code: 'server_overloaded', source: 'inferred' },
  notFound: { status: 404, message: 'Not Found', type: 'invalid_request_error', code: 'invalid_request_error', source: 'inferred' },
} as const

export type DeepSeekErrorName = keyof typeof DEEPSEEK_ERRORS

/** Which row a forced `behavior.status` answers with. */
export const FORCED_STATUS_ERROR: Record<FakeErrorStatus, DeepSeekErrorName> = {
  400: 'invalidFormat',
  401: 'authNoSuchUser',
  402: 'insufficientBalance',
  422: 'invalidParameters',
  429: 'rateLimitReached',
  500: 'serverError',
  503: 'serverOverloaded',
}

export function errorBody(name: DeepSeekErrorName, detail?: string, last4?: string): { error: { message: string; type: string; param: null; code: string } } {
  const row = DEEPSEEK_ERRORS[name]
  let message: string = row.message.replace('{last4}', last4 ?? '')
  if (detail) message += `: ${detail}`
  return { error: { message, type: row.type, param: null, code: row.code } }
}

export function sendError(res: ServerResponse, name: DeepSeekErrorName, opts: { detail?: string; last4?: string; headers?: Record<string, string> } = {}): number {
  const status = DEEPSEEK_ERRORS[name].status
  res.writeHead(status, { 'content-type': 'application/json', ...opts.headers })
  res.end(JSON.stringify(errorBody(name, opts.detail, opts.last4)))
  return status
}
