/**
 * The fake's token rules, simple enough for a test to predict by hand.
 *
 * Prompt tokens: every maximal run of non-whitespace characters in the text content of
 * every message counts as one token ("Hello, world!" is 2). Text content is a string
 * `content`, or the `text` of each `{type: 'text'}` part of an array `content`; anything
 * else (tool definitions, tool_calls, reasoning_content in the history) counts nothing.
 *
 * Cache hits (DeepSeek's context caching stores prompt prefixes on disk in 64-token units,
 * "Context Caching" guide): per API key, the fake remembers the token sequence of each prompt
 * it answered with 200. A new prompt's hit count is its longest common prefix with any of
 * them, rounded down to a multiple of `cacheBlockTokens` (default 64); the rest are misses.
 * A token only matches a token of the same role at the same position. The prompt is
 * remembered before the answer is sent, so a later request hits even if this one was aborted.
 */

/** A prompt as role-tagged words, so "user: hi" and "system: hi" never match. */
export type PromptSequence = readonly string[]

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .map((part: unknown) => (typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text' ? String((part as { text?: unknown }).text ?? '') : ''))
    .join(' ')
}

export function wordsOf(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '')
}

export function promptSequence(messages: readonly { role: string; content?: unknown }[]): PromptSequence {
  return messages.flatMap((m) => wordsOf(textOf(m.content)).map((w) => `${m.role}\u0000${w}`))
}

/** Text of the last user message, for deciding whether to call a tool. */
export function lastUserText(messages: readonly { role: string; content?: unknown }[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return textOf(messages[i]?.content)
  return ''
}

function commonPrefixLength(a: PromptSequence, b: PromptSequence): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a[i] === b[i]) i++
  return i
}

/**
 * Per-key memory of earlier prompts, each distinct prompt once, least recently sent first; bounded, the
 * least recent are forgotten first. A prompt sent before hits in full without a scan: benchmarks send one
 * prompt thousands of times, and comparing it with 1,000 copies of itself was most of the fake's CPU.
 */
export class PromptCache {
  private readonly byKey = new Map<string, Map<string, PromptSequence>>()
  constructor(
    private readonly blockTokens: number,
    private readonly maxPromptsPerKey = 1000,
  ) {}

  hitTokens(apiKey: string, prompt: PromptSequence): number {
    const earlier = this.byKey.get(apiKey)
    let best = 0
    if (earlier?.has(identity(prompt))) best = prompt.length
    else for (const seen of earlier?.values() ?? []) best = Math.max(best, commonPrefixLength(prompt, seen))
    return Math.floor(best / this.blockTokens) * this.blockTokens
  }

  remember(apiKey: string, prompt: PromptSequence): void {
    const seen = this.byKey.get(apiKey) ?? new Map<string, PromptSequence>()
    const id = identity(prompt)
    seen.delete(id) // re-inserted last: most recent
    seen.set(id, prompt)
    if (seen.size > this.maxPromptsPerKey) seen.delete(seen.keys().next().value!)
    this.byKey.set(apiKey, seen)
  }

  clear(): void {
    this.byKey.clear()
  }
}

/** One string per distinct sequence (JSON keeps the token boundaries). */
const identity = (prompt: PromptSequence) => JSON.stringify(prompt)
