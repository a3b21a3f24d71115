/**
 * Request checks that DeepSeek makes before answering, in its order: the JSON must parse
 * (400), then deserialize into its request type (422, serde-style messages observed in
 * public reports), then name a model it has (400 Model Not Exist).
 * Unknown fields are accepted, as DeepSeek does.
 */

import type { DeepSeekErrorName } from './errors.js'

export interface ChatMessage {
  role: string
  content?: unknown
}

export interface ChatRequestBody {
  model: string
  messages: ChatMessage[]
  stream?: boolean
  stream_options?: { include_usage?: boolean } | null
  tools?: unknown
  max_tokens?: unknown
  thinking?: unknown
  reasoning_effort?: unknown
  [field: string]: unknown
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: DeepSeekErrorName; detail?: string }

export function parseJson(raw: string): Checked<unknown> {
  try {
    return { ok: true, value: JSON.parse(raw) }
  } catch (err) {
    return { ok: false, error: 'jsonSyntax', detail: err instanceof Error ? err.message : String(err) }
  }
}

function invalid(detail: string): Checked<never> {
  return { ok: false, error: 'invalidParameters', detail }
}

export function checkChatBody(body: unknown): Checked<ChatRequestBody> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('invalid type: expected struct ChatCompletionRequest')
  const b = body as Record<string, unknown>
  if (!('model' in b)) return invalid('missing field `model`')
  if (typeof b.model !== 'string') return invalid('model: invalid type, expected a string')
  if (!('messages' in b)) return invalid('missing field `messages`')
  if (!Array.isArray(b.messages)) return invalid('messages: invalid type, expected a sequence')
  for (const [i, m] of b.messages.entries()) {
    if (typeof m !== 'object' || m === null) return invalid(`messages[${i}]: invalid type, expected internally tagged enum`)
    if (typeof (m as { role?: unknown }).role !== 'string') return invalid(`messages[${i}]: missing field \`role\``)
  }
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') return invalid('stream: invalid type, expected a boolean')
  if (b.messages.length === 0) return { ok: false, error: 'invalidFormat', detail: 'messages must not be empty' }
  return { ok: true, value: b as ChatRequestBody }
}
