/**
 * Reasoning on or off, as the hosted DeepSeek API decides it (its "Thinking Mode" guide): the legacy
 * names fix it (`deepseek-reasoner` on, `deepseek-chat` off) whatever the body says; else
 * `thinking: {type: "enabled" | "disabled"}`; else a `reasoning_effort` turns it on (`"none"` off,
 * as OpenAI reads it; other levels are not refused: the hosted API's set of them has changed); else
 * the model's own template decides (undefined).
 */
import { fail, isObject, type Json } from './validate-shared.js'

const LEGACY_NAMES: Record<string, boolean> = { 'deepseek-reasoner': true, 'deepseek-chat': false }

export function parseThinking(body: Json): boolean | undefined {
  const { thinking, reasoning_effort: effort } = body
  if (thinking !== undefined && thinking !== null) {
    if (!isObject(thinking) || (thinking.type !== 'enabled' && thinking.type !== 'disabled')) return fail(`'thinking' must be {"type": "enabled"} or {"type": "disabled"}`, 'thinking')
  }
  if (effort !== undefined && effort !== null && (typeof effort !== 'string' || effort === '')) return fail("'reasoning_effort' must be a string such as 'high'", 'reasoning_effort')
  if (typeof body.model === 'string' && Object.hasOwn(LEGACY_NAMES, body.model)) return LEGACY_NAMES[body.model]
  if (isObject(thinking)) return thinking.type === 'enabled'
  if (typeof effort === 'string') return effort !== 'none'
  return undefined
}
