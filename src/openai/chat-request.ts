/** A chat request checked just enough to route and meter it; every other field passes through untouched. */
export interface ChatRequest {
  body: Record<string, unknown>
  model: string
  stream: boolean
  clientWantsUsage: boolean
}

export type ChatRequestParse = { ok: true; request: ChatRequest } | { ok: false; code: string; message: string; param?: string }

const ROLES = new Set(['system', 'user', 'assistant', 'tool', 'developer', 'function'])

/**
 * JSON.parse takes any depth, but JSON.stringify (sending the body upstream) overflows the stack near
 * ~4k levels, which surfaced as a 502. Real requests (tool schemas) nest a few dozen levels.
 */
export const MAX_JSON_DEPTH = 512

/** Whether arrays/objects in `text` (already valid JSON) nest deeper than `max`: one pass, strings skipped. */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inString) {
      if (ch === 0x5c) i++ // backslash: skip the escaped character
      else if (ch === 0x22) inString = false
    } else if (ch === 0x22) inString = true
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true
    } else if (ch === 0x5d || ch === 0x7d) depth--
  }
  return false
}

function invalid(message: string, param?: string, code = 'invalid_request_error'): ChatRequestParse {
  return { ok: false, code, message, ...(param ? { param } : {}) }
}

export function parseChatRequest(bytes: Uint8Array): ChatRequestParse {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    return invalid('Request body is not valid UTF-8', undefined, 'invalid_encoding')
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return invalid('We could not parse the JSON body of your request. Send a JSON object.', undefined, 'invalid_json')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return invalid('The request body must be a JSON object', undefined, 'invalid_json')
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return invalid(`The JSON body nests deeper than ${MAX_JSON_DEPTH} levels`, undefined, 'invalid_json')
  const obj = body as Record<string, unknown>
  if (typeof obj.model !== 'string' || obj.model.length === 0 || obj.model.length > 256) {
    return invalid("'model' is required and must be a non-empty string", 'model')
  }
  if (!Array.isArray(obj.messages) || obj.messages.length === 0) return invalid("'messages' is required and must be a non-empty array", 'messages')
  for (const [i, message] of obj.messages.entries()) {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) return invalid(`messages[${i}] must be an object`, `messages[${i}]`)
    const role = (message as { role?: unknown }).role
    if (typeof role !== 'string' || !ROLES.has(role)) return invalid(`messages[${i}].role must be one of ${[...ROLES].join(', ')}`, `messages[${i}].role`)
  }
  if (obj.stream !== undefined && obj.stream !== null && typeof obj.stream !== 'boolean') return invalid("'stream' must be a boolean", 'stream')
  const options = obj.stream_options
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) return invalid("'stream_options' must be an object", 'stream_options')
  for (const field of ['max_tokens', 'max_completion_tokens'] as const) {
    const value = obj[field]
    if (value !== undefined && value !== null && (!Number.isInteger(value) || (value as number) < 1)) return invalid(`'${field}' must be a positive integer`, field)
  }
  const stream = obj.stream === true
  const clientWantsUsage = stream && (options as { include_usage?: unknown } | undefined)?.include_usage === true
  return { ok: true, request: { body: obj, model: obj.model, stream, clientWantsUsage } }
}

/** The body sent upstream: identical but for the model and, when streaming, a request for usage. */
export function upstreamBody(request: ChatRequest, prepared: Record<string, unknown>): Record<string, unknown> {
  if (!request.stream) return prepared
  const options = (prepared.stream_options as Record<string, unknown> | undefined) ?? {}
  return { ...prepared, stream_options: { ...options, include_usage: true } }
}
