/**
 * One request's generation on one sequence: reuse the cached prefix, evaluate the rest of the prompt,
 * sample until a stop, the token budget or the end of the context, and stop at once on abort.
 * The decode loop runs ahead of the consumer: events queue up while the consumer writes them out.
 */
import type { LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp'
import { createToolCallParser, type ToolCallParser } from './tool-call-parser.js'
import type { ToolTokens } from './tool-tokens.js'
import { createStopMatcher } from '../stop-matcher.js'
import type { ChatRequest, EngineEvent, FinishReason, Timings } from '../types.js'
import type { BuiltPrompt } from './prompt.js'
import { evaluateOptions } from './sampling.js'
import type { BatchGate, GateMember } from './batch-gate.js'
import { createEventChannel, type EventChannel } from './event-channel.js'
import type { SequenceLease, SequencePool } from './sequence-pool.js'
import { createTokenDecoder } from './token-decoder.js'

export interface GenerateJob {
  model: LlamaModel
  pool: SequencePool
  prompt: BuiltPrompt
  request: ChatRequest
  grammar: LlamaGrammar | undefined
  signal: AbortSignal
  /** Shared by the context's sequences: lines their decode steps up into one batch. */
  gate: BatchGate
  /** Set when the request offers tools the model may call. */
  tools?: ToolPlan
}

/** How tool calls are sampled: under a grammar from the first token, or from a trigger token on. */
export interface ToolPlan {
  tokens: ToolTokens
  /** A call is forced and no reasoning comes first: sampled under this from the start. */
  fromStart?: LlamaGrammar
  /** Sampling this token (calls-begin in auto mode; `</think>` before a forced call) switches to `afterTrigger`. */
  trigger?: Token
  afterTrigger?: LlamaGrammar
}

export async function* generate(job: GenerateJob): AsyncGenerator<EngineEvent> {
  const { prompt, signal } = job
  if (signal.aborted) return
  const lease = await job.gate.admit(() => job.pool.take(prompt.tokens))
  // Set when the consumer stops pulling (client gone, or it broke out early): the decode loop ends too.
  const stopped = new AbortController()
  const events = createEventChannel<EngineEvent>()
  let decoding: Promise<void> | undefined
  try {
    const { cachedTokens } = lease
    yield { type: 'start', promptTokens: prompt.tokens.length, cachedTokens, startsInReasoning: prompt.startsInReasoning }
    decoding = decodeLoop(job, lease, AbortSignal.any([signal, stopped.signal]), events).then(
      () => events.close(),
      (err: unknown) => events.close(err),
    )
    yield* events
  } finally {
    stopped.abort()
    await decoding
    lease.release()
  }
}

/**
 * Evaluates the prompt and samples until a stop, pushing events as it goes; never waits for the
 * consumer, only for the batch gate (so concurrent sequences share decode batches).
 */
async function decodeLoop(job: GenerateJob, lease: SequenceLease, signal: AbortSignal, events: EventChannel<EngineEvent>): Promise<void> {
  const { model, prompt, request } = job
  const { sequence, cachedTokens } = lease
  const generated: Token[] = []
  const decoder = createTokenDecoder(model, prompt.tokens)
  const stops = createStopMatcher([...request.stop, ...prompt.stopTexts])
  const jsonMode = request.responseFormat.type === 'json_object' || request.responseFormat.type === 'json_schema'
  const maxTokens = request.maxTokens ?? Number.POSITIVE_INFINITY
  const evaluated = prompt.tokens.slice(cachedTokens)
  let finishReason: FinishReason = 'length'
  let text = ''
  let stoppedByString = false

  const startedAt = performance.now()
  let firstTokenAt: number | undefined
  let member: GateMember | undefined
  const tools = job.tools
  let parser: ToolCallParser | undefined
  let iterator = sequence.evaluate(evaluated, evaluateOptions(request, model, tools?.fromStart ?? job.grammar, generated))
  // The latest token's text, handed to the consumer only once the next decode is requested, so the
  // consumer's synchronous work (SSE chunk, socket write) runs while that decode computes; or at once
  // when this sequence must wait for another's decode (the gate's serial mode).
  let unsent: EngineEvent | undefined
  const sendUnsent = () => {
    if (unsent) events.push(unsent)
    unsent = undefined
  }
  try {
    for (;;) {
      if (member) await member.ready(sendUnsent)
      if (signal.aborted) return
      const nextToken = iterator.next()
      sendUnsent()
      const next = await nextToken
      if (next.done) break
      const token = next.value
      firstTokenAt ??= performance.now()
      member ??= job.gate.join(lease.sequenceId)
      generated.push(token)
      if (signal.aborted) return
      if (model.isEogToken(token) || prompt.stopTokens.has(token)) {
        finishReason = parser && parser.completed > 0 ? 'tool_calls' : 'stop'
        break
      }
      if (tools && !parser && token === tools.tokens.callsBegin) {
        parser = createToolCallParser(tools.tokens, newToolCallId)
        // Text held back for a possible stop string was content after all: the calls come after it.
        const held = stops.flush()
        if (held) events.push({ type: 'text', text: held, tokens: 0 })
      }
      if (parser) {
        const toolEvents = parser.push(token, decoder.push(token))
        for (const e of toolEvents.slice(0, -1)) events.push(e)
        unsent = toolEvents.at(-1)
        if (parser.done) {
          finishReason = 'tool_calls'
          break
        }
      }
      if (tools?.trigger === token && tools.afterTrigger) {
        // The trigger was sampled freely; from here on the call's grammar holds. The trigger itself is
        // the new evaluation's first input, so the KV cache continues exactly where it was.
        await iterator.return()
        iterator = sequence.evaluate([token], evaluateOptions(request, model, tools.afterTrigger, generated))
      }
      // Stop before the context fills: node-llama-cpp would shift the context, which changes the prompt.
      const contextFull = sequence.nextTokenIndex + 1 >= sequence.contextSize
      if (parser) {
        if (generated.length >= maxTokens || contextFull) break
        continue
      }
      const piece = stops.push(decoder.push(token))
      text += piece.text
      unsent = { type: 'text', text: piece.text, tokens: 1 }
      stoppedByString = piece.stopped
      if (piece.stopped || (jsonMode && isCompleteJson(text, piece.text))) {
        finishReason = 'stop'
        break
      }
      if (generated.length >= maxTokens || contextFull) break
    }
  } finally {
    member?.leave()
    await iterator.return()
  }
  if (signal.aborted) return
  if (unsent) events.push(unsent)
  if (!stoppedByString && !parser) {
    // Text held back for a possible stop string or an unfinished character was output after all.
    const rest = stops.push(decoder.flush())
    const released = rest.stopped ? rest.text : rest.text + stops.flush()
    if (released) events.push({ type: 'text', text: released, tokens: 0 })
  }
  const endedAt = performance.now()
  const promptMs = (firstTokenAt ?? endedAt) - startedAt
  const predictedMs = endedAt - (firstTokenAt ?? endedAt)
  const timings: Timings = {
    prompt_n: evaluated.length,
    prompt_ms: round3(promptMs),
    prompt_per_second: perSecond(evaluated.length, promptMs),
    predicted_n: generated.length,
    predicted_ms: round3(predictedMs),
    predicted_per_second: perSecond(generated.length, predictedMs),
    cache_n: cachedTokens,
  }
  events.push({
    type: 'done',
    finishReason,
    usage: { promptTokens: prompt.tokens.length, completionTokens: generated.length, cachedTokens },
    timings,
  })
}

/** In JSON modes the grammar allows trailing whitespace forever; stop once the value is complete. */
function isCompleteJson(text: string, lastPiece: string): boolean {
  if (!/[}\]]/.test(lastPiece)) return false
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** OpenAI-style ids for calls node-host makes (`call_` + 24 random hex digits). */
function newToolCallId(): string {
  return `call_${crypto.randomUUID().replace(/-/g, '').slice(0, 24)}`
}

const round3 = (n: number) => Math.round(n * 1000) / 1000
const perSecond = (tokens: number, ms: number) => (ms > 0 ? round3((tokens * 1000) / ms) : 0)
