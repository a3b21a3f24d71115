/**
 * One choice's engine events turned into OpenAI output: gathered into a message (non-streamed), or
 * written as chunks as they come (streamed): reasoning and content deltas, tool calls (the name and
 * id first, then argument pieces), the finish chunk. Several choices (n > 1) share one writer.
 */
import { chunk, createChoiceAssembler, deltaFields, type AssembledChoice, type ChunkContext } from './openai-format.js'
import type { SseWriter } from './sse.js'
import type { EventsOutput, Timings, TokenUsage } from './types.js'

export interface ChoiceResult extends AssembledChoice {
  usage: TokenUsage
  timings: Timings
  reasoningTokens: number
}

/** Reads a choice to its end; with a writer, streams it as chunks of choice `index` meanwhile. Undefined if aborted. */
export async function runChoice(output: EventsOutput, opts: { index: number; ctx: ChunkContext; writer?: SseWriter; signal?: AbortSignal }): Promise<ChoiceResult | undefined> {
  const { index, ctx, writer } = opts
  const send = (delta: Record<string, unknown>, finish: AssembledChoice['finishReason'] | null = null) => writer?.data(chunk(ctx, delta, finish, index))
  let assembler = createChoiceAssembler(false)
  let reasoning = ''
  let content = ''
  const toolCalls: AssembledChoice['toolCalls'] = []
  send({ role: 'assistant', content: '' })
  const text = (d: { reasoning: string; content: string }) => {
    reasoning += d.reasoning
    content += d.content
    const fields = deltaFields(d)
    if (fields) send(fields)
  }
  for await (const event of output.events) {
    if (opts.signal?.aborted) return undefined
    if (event.type === 'start') assembler = createChoiceAssembler(event.startsInReasoning)
    else if (event.type === 'text') text(assembler.push(event.text, event.tokens))
    else if (event.type === 'tool_call') {
      text(assembler.flush())
      toolCalls[event.index] = { id: event.id, name: event.name, arguments: '' }
      send({ tool_calls: [{ index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } }] })
    } else if (event.type === 'tool_arguments') {
      toolCalls[event.index]!.arguments += event.text
      send({ tool_calls: [{ index: event.index, function: { arguments: event.text } }] })
    } else {
      text(assembler.flush())
      send({}, event.finishReason)
      return { reasoning, content, toolCalls, finishReason: event.finishReason, usage: event.usage, timings: event.timings, reasoningTokens: assembler.reasoningTokens }
    }
  }
  if (opts.signal?.aborted) return undefined
  throw new Error('engine ended without a done event')
}

/** Usage over all choices: the prompt once (OpenAI counts it once), completions summed. */
export function combinedUsage(results: readonly ChoiceResult[]): { usage: TokenUsage; reasoningTokens: number; timings: Timings } {
  const first = results[0]!
  const predictedN = results.reduce((s, r) => s + r.timings.predicted_n, 0)
  const predictedMs = Math.max(...results.map((r) => r.timings.predicted_ms))
  return {
    usage: { promptTokens: first.usage.promptTokens, cachedTokens: first.usage.cachedTokens, completionTokens: results.reduce((s, r) => s + r.usage.completionTokens, 0) },
    reasoningTokens: results.reduce((s, r) => s + r.reasoningTokens, 0),
    timings: results.length === 1 ? first.timings : { ...first.timings, predicted_n: predictedN, predicted_ms: predictedMs, predicted_per_second: predictedMs > 0 ? Math.round((predictedN * 1e6) / predictedMs) / 1000 : 0 },
  }
}
