/**
 * OpenAI wire shapes for chat completions, built from engine events. Reasoning (`<think>`) is split off
 * into `reasoning_content` here, where the wire format is decided.
 */
import { createReasoningSplitter, type SplitDelta } from './reasoning-split.js'
import type { FinishReason, Timings, TokenUsage } from './types.js'

export interface OpenAIUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details: { cached_tokens: number }
  completion_tokens_details: { reasoning_tokens: number }
}

export function newCompletionId(): string {
  return `chatcmpl-${crypto.randomUUID().replace(/-/g, '')}`
}

export function toOpenAIUsage(usage: TokenUsage, reasoningTokens: number): OpenAIUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  }
}

/** Splits engine text into reasoning and content and counts the tokens spent thinking. */
export interface ChoiceAssembler {
  push(text: string, tokens: number): SplitDelta
  flush(): SplitDelta
  readonly reasoningTokens: number
}

export function createChoiceAssembler(startsInReasoning: boolean): ChoiceAssembler {
  const splitter = createReasoningSplitter({ startInReasoning: startsInReasoning })
  let reasoningTokens = 0
  return {
    push(text, tokens) {
      const wasReasoning = splitter.inReasoning
      const delta = splitter.push(text)
      // A token belongs to the thoughts if it was read inside them, or opened them, or closed them.
      if (wasReasoning || splitter.inReasoning || delta.reasoning) reasoningTokens += tokens
      return delta
    },
    flush: () => splitter.flush(),
    get reasoningTokens() {
      return reasoningTokens
    },
  }
}

export interface ChunkContext {
  id: string
  created: number
  model: string
  includeUsage: boolean
}

export function chunk(ctx: ChunkContext, delta: Record<string, unknown>, finishReason: FinishReason | null, index = 0): Record<string, unknown> {
  return {
    id: ctx.id,
    object: 'chat.completion.chunk',
    created: ctx.created,
    model: ctx.model,
    system_fingerprint: null,
    choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
    ...(ctx.includeUsage ? { usage: null } : {}),
  }
}

export function usageChunk(ctx: ChunkContext, usage: OpenAIUsage, timings: Timings): Record<string, unknown> {
  return { id: ctx.id, object: 'chat.completion.chunk', created: ctx.created, model: ctx.model, system_fingerprint: null, choices: [], usage, timings }
}

export function deltaFields(delta: SplitDelta): Record<string, string> | undefined {
  const out: Record<string, string> = {}
  if (delta.reasoning) out.reasoning_content = delta.reasoning
  if (delta.content) out.content = delta.content
  return Object.keys(out).length > 0 ? out : undefined
}

/** One finished choice, as the HTTP layer assembled it from engine events (choice-output.ts). */
export interface AssembledChoice {
  reasoning: string
  content: string
  toolCalls: { id: string; name: string; arguments: string }[]
  finishReason: FinishReason
}

export function completion(ctx: ChunkContext, r: { choices: AssembledChoice[]; usage: OpenAIUsage; timings: Timings }): Record<string, unknown> {
  return {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    system_fingerprint: null,
    choices: r.choices.map((c, index) => ({
      index,
      message: {
        role: 'assistant',
        content: c.content,
        ...(c.reasoning ? { reasoning_content: c.reasoning } : {}),
        // DeepSeek's shape: each call carries its index, arguments are a JSON string.
        ...(c.toolCalls.length > 0 ? { tool_calls: c.toolCalls.map((t, i) => ({ index: i, id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } })) } : {}),
      },
      logprobs: null,
      finish_reason: c.finishReason,
    })),
    usage: r.usage,
    timings: r.timings,
  }
}
