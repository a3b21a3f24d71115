/**
 * Model names the fake answers, per DeepSeek's "Models & Pricing" and "Your First API Call"
 * pages (November 2026):
 * - current: deepseek-flash (V4.1 Flash), deepseek-v4-pro;
 * - legacy, still accepted and served by V4.1 Flash: deepseek-v4-flash, deepseek-v4-flash-vision-exp;
 * - retired on 2026-07-24: deepseek-chat (was Flash, non-thinking) and deepseek-reasoner
 *   (was Flash, thinking). The fake still answers them unless told not to.
 * The response's `model` echoes the requested name, as DeepSeek's responses do.
 */

export const CURRENT_MODELS = ['deepseek-flash', 'deepseek-v4-pro'] as const

interface Alias {
  servedBy: (typeof CURRENT_MODELS)[number]
  /** Forced thinking mode, if the name implies one. */
  thinking?: boolean
  retired?: true
}

const ALIASES: Record<string, Alias> = {
  'deepseek-v4-flash': { servedBy: 'deepseek-flash' },
  'deepseek-v4-flash-vision-exp': { servedBy: 'deepseek-flash' },
  'deepseek-chat': { servedBy: 'deepseek-flash', thinking: false, retired: true },
  'deepseek-reasoner': { servedBy: 'deepseek-flash', thinking: true, retired: true },
}

export interface ResolvedModel {
  servedModel: string
  thinking: boolean
}

/**
 * Which model serves `requested` and whether it thinks. Undefined for an unknown name.
 * Thinking (DeepSeek "Thinking Mode" guide): on by default; `thinking: {type: 'disabled'}`
 * turns it off, `{type: 'enabled'}` or a `reasoning_effort` turns it on; a legacy name's mode wins.
 */
export function resolveModel(
  requested: string,
  body: { thinking?: unknown; reasoning_effort?: unknown },
  opts: { thinkingByDefault: boolean; acceptRetiredAliases: boolean },
): ResolvedModel | undefined {
  const alias = ALIASES[requested]
  const isCurrent = (CURRENT_MODELS as readonly string[]).includes(requested)
  if (!isCurrent && (!alias || (alias.retired && !opts.acceptRetiredAliases))) return undefined
  const servedModel = alias?.servedBy ?? requested
  if (alias?.thinking !== undefined) return { servedModel, thinking: alias.thinking }
  const type = typeof body.thinking === 'object' && body.thinking !== null ? (body.thinking as { type?: unknown }).type : undefined
  if (type === 'disabled') return { servedModel, thinking: false }
  if (type === 'enabled' || body.reasoning_effort !== undefined) return { servedModel, thinking: true }
  return { servedModel, thinking: opts.thinkingByDefault }
}

export function modelList(): { object: 'list'; data: { id: string; object: 'model'; owned_by: 'deepseek' }[] } {
  return { object: 'list', data: CURRENT_MODELS.map((id) => ({ id, object: 'model' as const, owned_by: 'deepseek' as const })) }
}
