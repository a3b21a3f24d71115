/**
 * What the fake answers, decided up front, then rendered either as one chat.completion
 * or as chat.completion.chunk events (DeepSeek "Create Chat Completion" reference).
 *
 * Completion tokens: one piece = one token. Reasoning pieces + content pieces, or for a
 * tool call reasoning pieces + argument pieces (arguments are sent in 8-character pieces;
 * the tool name costs nothing). `max_tokens` cuts reasoning first, then content, and makes
 * finish_reason 'length'.
 */

import { randomUUID } from 'node:crypto'
import type { FakeBehavior, FakeUsage } from './types.js'

export const DEFAULT_CONTENT_PIECES = ['This', ' is', ' the', ' fake', ' DeepSeek', ' answer.']
export const DEFAULT_REASONING_PIECES = ['Thinking', ' about', ' the', ' question.']
export const TOOL_ARGUMENT_PIECE_CHARS = 8
const SYSTEM_FINGERPRINT = 'fp_fake_deepseek_prod'

export interface ToolCallPlan {
  id: string
  name: string
  arguments: string
  argumentPieces: string[]
}

export interface AnswerPlan {
  id: string
  created: number
  /** Echo of the requested model name. */
  model: string
  thinking: boolean
  reasoningPieces: string[]
  contentPieces: string[]
  toolCall?: ToolCallPlan
  finishReason: 'stop' | 'length' | 'tool_calls'
  usage: FakeUsage
}

function piecesOf(spec: string[] | number | undefined, defaults: string[], fillerWord: string): string[] {
  if (spec === undefined) return [...defaults]
  if (Array.isArray(spec)) return [...spec]
  return Array.from({ length: spec }, (_, i) => `${i === 0 ? '' : ' '}${fillerWord}${i + 1}`)
}

function splitEvery(text: string, size: number): string[] {
  const out: string[] = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out
}

/** A tool call when the request offers function tools and the last user message says "call tool". */
function planToolCall(tools: unknown, lastUser: string, seq: number): ToolCallPlan | undefined {
  if (!Array.isArray(tools) || !/call tool/i.test(lastUser)) return undefined
  const names = tools.flatMap((t: unknown) => {
    const tool = t as { type?: unknown; function?: { name?: unknown } } | null
    return tool?.type === 'function' && typeof tool.function?.name === 'string' ? [tool.function.name] : []
  })
  const name = names.find((n) => lastUser.includes(n)) ?? names[0]
  if (name === undefined) return undefined
  const args = JSON.stringify({ request: lastUser })
  return { id: `call_00_fake${seq}`, name, arguments: args, argumentPieces: splitEvery(args, TOOL_ARGUMENT_PIECE_CHARS) }
}

export function planAnswer(input: {
  seq: number
  requestedModel: string
  thinking: boolean
  behavior: FakeBehavior
  tools: unknown
  lastUserText: string
  maxTokens: unknown
  promptTokens: number
  cacheHitTokens: number
}): AnswerPlan {
  let reasoningPieces = input.thinking ? piecesOf(input.behavior.reasoningTokens, DEFAULT_REASONING_PIECES, 'thought') : []
  const toolCall = planToolCall(input.tools, input.lastUserText, input.seq)
  let contentPieces = toolCall ? [] : piecesOf(input.behavior.contentTokens, DEFAULT_CONTENT_PIECES, 'word')
  const padTo = input.behavior.pieceChars
  if (padTo !== undefined && typeof input.behavior.contentTokens === 'number') contentPieces = contentPieces.map((p) => p.padEnd(padTo, '.'))
  let finishReason: AnswerPlan['finishReason'] = toolCall ? 'tool_calls' : 'stop'
  const max = input.maxTokens
  if (!toolCall && typeof max === 'number' && Number.isInteger(max) && max > 0 && reasoningPieces.length + contentPieces.length > max) {
    reasoningPieces = reasoningPieces.slice(0, max)
    contentPieces = contentPieces.slice(0, max - reasoningPieces.length)
    finishReason = 'length'
  }
  const completion = reasoningPieces.length + (toolCall ? toolCall.argumentPieces.length : contentPieces.length)
  const miss = input.promptTokens - input.cacheHitTokens
  return {
    id: randomUUID(),
    created: Math.floor(Date.now() / 1000),
    model: input.requestedModel,
    thinking: input.thinking,
    reasoningPieces,
    contentPieces,
    ...(toolCall ? { toolCall } : {}),
    finishReason,
    usage: {
      prompt_tokens: input.promptTokens,
      completion_tokens: completion,
      total_tokens: input.promptTokens + completion,
      prompt_tokens_details: { cached_tokens: input.cacheHitTokens },
      prompt_cache_hit_tokens: input.cacheHitTokens,
      prompt_cache_miss_tokens: miss,
      completion_tokens_details: { reasoning_tokens: reasoningPieces.length },
    },
  }
}

/** The non-streamed `chat.completion` object. */
export function completionBody(plan: AnswerPlan, omitUsage: boolean): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: plan.contentPieces.join('') }
  if (plan.thinking) message.reasoning_content = plan.reasoningPieces.join('')
  if (plan.toolCall) {
    message.tool_calls = [{ index: 0, id: plan.toolCall.id, type: 'function', function: { name: plan.toolCall.name, arguments: plan.toolCall.arguments } }]
  }
  return {
    id: plan.id,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finishReason }],
    ...(omitUsage ? {} : { usage: plan.usage }),
  }
}

/**
 * The `chat.completion.chunk` objects, in order: role, reasoning deltas, content (or tool
 * call) deltas, the finish chunk, and with include_usage a last chunk with `choices: []` and
 * the usage; the other chunks then carry `usage: null` (OpenAI stream_options semantics).
 */
export function streamChunks(plan: AnswerPlan, includeUsage: boolean, omitUsage: boolean): Record<string, unknown>[] {
  const base = { id: plan.id, object: 'chat.completion.chunk', created: plan.created, model: plan.model, system_fingerprint: SYSTEM_FINGERPRINT }
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  })
  const chunks = [chunk({ role: 'assistant', content: '' })]
  // In thinking mode DeepSeek sends the field that is not being streamed as null.
  for (const piece of plan.reasoningPieces) chunks.push(chunk({ content: null, reasoning_content: piece }))
  for (const piece of plan.contentPieces) chunks.push(chunk(plan.thinking ? { content: piece, reasoning_content: null } : { content: piece }))
  if (plan.toolCall) {
    const { id, name, argumentPieces } = plan.toolCall
    chunks.push(chunk({ tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }] }))
    for (const piece of argumentPieces) chunks.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }))
  }
  chunks.push(chunk({ content: '' }, plan.finishReason))
  const out: Record<string, unknown>[] = chunks
  if (includeUsage && !omitUsage) out.push({ ...base, choices: [], usage: plan.usage })
  return out
}
