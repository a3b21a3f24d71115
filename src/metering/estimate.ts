import type { TokenUsage } from './token-usage.js'

/**
 * Rough token count for text we saw but were never billed for (upstream sent no usage,
 * e.g. the client left mid-stream). ~4 characters per token is the usual rule of thumb
 * for English with BPE vocabularies; rows that use it are flagged `usage_estimated`.
 */
export function estimateTokens(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / 4)
}

/** Characters of message text in a chat request (string contents and text parts). */
export function promptChars(messages: unknown): number {
  if (!Array.isArray(messages)) return 0
  let chars = 0
  for (const message of messages) {
    const content = (message as { content?: unknown } | null)?.content
    if (typeof content === 'string') chars += content.length
    else if (Array.isArray(content)) {
      for (const part of content) {
        const text = (part as { text?: unknown } | null)?.text
        if (typeof text === 'string') chars += text.length
      }
    }
  }
  return chars
}

/**
 * Usage for text that passed through without a bill. Streams also pass their delta counts:
 * engines send about one token per delta, so the larger of the two estimates is kept.
 */
export function estimateUsage(opts: { promptChars: number; contentChars: number; reasoningChars: number; contentDeltas?: number; reasoningDeltas?: number }): TokenUsage {
  const promptTokens = estimateTokens(opts.promptChars)
  const reasoningTokens = Math.max(estimateTokens(opts.reasoningChars), opts.reasoningDeltas ?? 0)
  return {
    promptTokens,
    cacheHitTokens: 0,
    cacheMissTokens: promptTokens,
    completionTokens: Math.max(estimateTokens(opts.contentChars), opts.contentDeltas ?? 0) + reasoningTokens,
    reasoningTokens,
  }
}
