/** Token counts as the gateway records them, whichever upstream reported them. */
export interface TokenUsage {
  promptTokens: number
  cacheHitTokens: number
  cacheMissTokens: number
  completionTokens: number
  reasoningTokens: number
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined
}

function field(obj: unknown, key: string): unknown {
  return obj !== null && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined
}

/**
 * Reads an OpenAI-style `usage` object. DeepSeek reports the prompt split as
 * `prompt_cache_hit_tokens` / `prompt_cache_miss_tokens` (api-docs.deepseek.com, "Context Caching");
 * OpenAI-compatible engines (node-host, llama-server, vLLM) as `prompt_tokens_details.cached_tokens`.
 * Reasoning tokens are `completion_tokens_details.reasoning_tokens` in both, and are part of completion_tokens.
 */
export function tokenUsageFrom(raw: unknown): TokenUsage | undefined {
  const promptTokens = count(field(raw, 'prompt_tokens'))
  const completionTokens = count(field(raw, 'completion_tokens'))
  if (promptTokens === undefined || completionTokens === undefined) return undefined
  const hit = count(field(raw, 'prompt_cache_hit_tokens'))
  const miss = count(field(raw, 'prompt_cache_miss_tokens'))
  const cached = count(field(field(raw, 'prompt_tokens_details'), 'cached_tokens'))
  const cacheHitTokens = Math.min(hit ?? cached ?? 0, promptTokens)
  const cacheMissTokens = miss ?? promptTokens - cacheHitTokens
  const reasoningTokens = count(field(field(raw, 'completion_tokens_details'), 'reasoning_tokens')) ?? 0
  return { promptTokens, cacheHitTokens, cacheMissTokens, completionTokens, reasoningTokens }
}

export const NO_TOKENS: TokenUsage = { promptTokens: 0, cacheHitTokens: 0, cacheMissTokens: 0, completionTokens: 0, reasoningTokens: 0 }
