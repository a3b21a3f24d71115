import type { Context } from 'hono'
import { openAIError } from '../openai/errors.js'
import type { OpResult } from './op-result.js'

/** The request's JSON object body; undefined when it is not a JSON object. */
export async function jsonBody(c: Context): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await c.req.json()
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Like jsonBody, but an empty body is an empty object (for actions whose fields all have defaults). */
export async function optionalJsonBody(c: Context): Promise<Record<string, unknown> | undefined> {
  const text = await c.req.text()
  if (text.trim() === '') return {}
  try {
    const body: unknown = JSON.parse(text)
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

export function answer<T>(c: Context, result: OpResult<T>, okStatus: 200 | 201 = 200): Response {
  return result.ok ? c.json(result.value as object, okStatus) : openAIError(c, result.status, result.code, result.message)
}

export const badJson = (c: Context) => openAIError(c, 400, 'invalid_json', 'Send a JSON object body')
