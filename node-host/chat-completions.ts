/**
 * POST /v1/chat/completions: validate, prepare, wait for a slot, run, and answer in OpenAI's format
 * (JSON or SSE). The same for both engines; forward mode passes its upstream's bytes through.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { openAIErrorBody, openAIErrorResponse } from '../src/openai/errors.js'
import type { Logger } from './log.js'
import type { NodeHostMetrics } from './metrics.js'
import {
  chunk,
  completion,
  createChoiceAssembler,
  deltaFields,
  newCompletionId,
  toOpenAIUsage,
  usageChunk,
  type ChunkContext,
} from './openai-format.js'
import type { SlotLease, SlotQueue } from './queue.js'
import { readChunks } from './streams.js'
import { createSseStream, SSE_HEADERS, type SseWriter } from './sse.js'
import type { ThroughputWindow } from './throughput.js'
import { EngineError, type ChatRequest, type Engine, type EngineOutput, type EventsOutput, type FinishReason, type Timings, type TokenUsage } from './types.js'
import { parseChatRequest } from './validate.js'

export interface ChatCompletionDeps {
  engine: Engine
  queue: SlotQueue
  metrics: NodeHostMetrics
  throughput: ThroughputWindow
  log: Logger
  keepAliveMs: number
}

/** Status recorded for requests whose client went away (nginx's convention). */
const CLIENT_CLOSED = 499

interface Outcome {
  status: number
  usage?: TokenUsage
  timings?: Timings
}

export async function handleChatCompletion(deps: ChatCompletionDeps, rawBody: Uint8Array, clientSignal: AbortSignal): Promise<Response> {
  const startedAt = performance.now()
  const requestId = newCompletionId()
  const finish = (outcome: Outcome) => account(deps, requestId, startedAt, outcome)

  const info = deps.engine.info()
  if (info.state !== 'ready') {
    finish({ status: 503 })
    return openAIErrorResponse(503, 'model_not_ready', `Model is ${info.state}`, { 'retry-after': '5' })
  }

  let request: ChatRequest
  let prepared: Awaited<ReturnType<Engine['prepare']>>
  try {
    request = parseChatRequest(rawBody)
    prepared = await deps.engine.prepare(request, rawBody)
  } catch (err) {
    const res = errorResponse(err)
    finish({ status: res.status })
    return res
  }

  const aborter = new AbortController()
  const signal = AbortSignal.any([clientSignal, aborter.signal])
  const leasePromise = deps.queue.enter(signal)
  if (!leasePromise) {
    finish({ status: 429 })
    return openAIErrorResponse(429, 'queue_full', `All ${deps.queue.slotsTotal} slots are busy and ${deps.queue.maxQueue} requests are waiting; retry later or elsewhere`, {
      'retry-after': String(retryAfterSeconds(deps)),
    })
  }

  let lease: SlotLease | undefined
  const runPromise = (async (): Promise<EngineOutput> => {
    lease = await leasePromise
    return prepared.run(signal)
  })()
  const release = () => lease?.release()
  // Settles both ways; observed below.
  runPromise.catch(() => {})

  const ctx: ChunkContext = { id: requestId, created: Math.floor(Date.now() / 1000), model: info.modelName, includeUsage: request.includeUsage }

  if (!request.stream) {
    try {
      const output = await runPromise
      if (output.kind === 'passthrough') return passthrough(output, release, finish)
      const { body, outcome } = await collect(output, ctx)
      release()
      finish(outcome)
      return Response.json(body)
    } catch (err) {
      release()
      const res = errorResponse(err)
      finish({ status: signal.aborted ? CLIENT_CLOSED : res.status })
      return res
    }
  }

  // Streaming: answer with the real status if the outcome is known within one keep-alive interval (fast
  // failures, upstream errors); otherwise commit to 200 and keep the stream alive while we wait.
  const commitTimer = new AbortController()
  const early = await Promise.race([
    runPromise.then((output) => ({ output }), (error: unknown) => ({ error })),
    sleep(deps.keepAliveMs, undefined, { signal: commitTimer.signal }).catch(() => undefined),
  ])
  commitTimer.abort()
  if (early && 'error' in early) {
    release()
    const res = errorResponse(early.error)
    finish({ status: signal.aborted ? CLIENT_CLOSED : res.status })
    return res
  }
  if (early?.output.kind === 'passthrough' && early.output.status !== 200) return passthrough(early.output, release, finish)

  const { stream, signal: streamSignal } = createSseStream({
    keepAliveMs: deps.keepAliveMs,
    onError: (err) => (err instanceof EngineError ? openAIErrorBody(err.status, err.code, err.message) : openAIErrorBody(500, 'internal_error', 'Generation failed')),
    produce: async (writer) => {
      // Committed after a silent interval: tell the proxy we are alive right away.
      if (!early) writer.keepAlive()
      let outcome: Outcome = { status: 200 }
      try {
        const output = await runPromise
        outcome = output.kind === 'events' ? await streamEvents(output, ctx, writer, signal) : await streamPassthrough(output, writer)
      } catch (err) {
        outcome = { status: signal.aborted ? CLIENT_CLOSED : err instanceof EngineError ? err.status : 500 }
        throw err
      } finally {
        release()
        finish(signal.aborted ? { ...outcome, status: CLIENT_CLOSED } : outcome)
      }
    },
  })
  streamSignal.addEventListener('abort', () => aborter.abort(streamSignal.reason), { once: true })
  return new Response(stream, { status: 200, headers: SSE_HEADERS })
}

async function collect(output: EventsOutput, ctx: ChunkContext): Promise<{ body: Record<string, unknown>; outcome: Outcome }> {
  let assembler = createChoiceAssembler(false)
  let reasoning = ''
  let content = ''
  for await (const event of output.events) {
    if (event.type === 'start') assembler = createChoiceAssembler(event.startsInReasoning)
    else if (event.type === 'text') {
      const d = assembler.push(event.text, event.tokens)
      reasoning += d.reasoning
      content += d.content
    } else {
      const d = assembler.flush()
      reasoning += d.reasoning
      content += d.content
      const usage = toOpenAIUsage(event.usage, assembler.reasoningTokens)
      return {
        body: completion(ctx, { reasoning, content, finishReason: event.finishReason, usage, timings: event.timings }),
        outcome: { status: 200, usage: event.usage, timings: event.timings },
      }
    }
  }
  throw new Error('engine ended without a done event')
}

async function streamEvents(output: EventsOutput, ctx: ChunkContext, writer: SseWriter, signal: AbortSignal): Promise<Outcome> {
  let assembler = createChoiceAssembler(false)
  let finishReason: FinishReason = 'stop'
  writer.data(chunk(ctx, { role: 'assistant', content: '' }, null))
  for await (const event of output.events) {
    if (signal.aborted) break
    if (event.type === 'start') assembler = createChoiceAssembler(event.startsInReasoning)
    else if (event.type === 'text') {
      const delta = deltaFields(assembler.push(event.text, event.tokens))
      if (delta) writer.data(chunk(ctx, delta, null))
    } else {
      const tail = deltaFields(assembler.flush())
      if (tail) writer.data(chunk(ctx, tail, null))
      finishReason = event.finishReason
      writer.data(chunk(ctx, {}, finishReason))
      if (ctx.includeUsage) writer.data(usageChunk(ctx, toOpenAIUsage(event.usage, assembler.reasoningTokens), event.timings))
      writer.done()
      return { status: 200, usage: event.usage, timings: event.timings }
    }
  }
  return { status: CLIENT_CLOSED }
}

async function streamPassthrough(output: Extract<EngineOutput, { kind: 'passthrough' }>, writer: SseWriter): Promise<Outcome> {
  if (output.status !== 200) {
    // Committed to 200 already (slow upstream): report its error in-stream, as llama-server and vLLM do.
    const text = await new Response(output.body).text()
    writer.data(upstreamErrorBody(output.status, text))
    return { status: output.status }
  }
  for await (const bytes of readChunks(output.body)) writer.raw(bytes)
  const report = await output.report
  return { status: 200, ...report }
}

function passthrough(output: Extract<EngineOutput, { kind: 'passthrough' }>, release: () => void, finish: (o: Outcome) => void): Response {
  // The slot is held until the upstream body has been read to the end.
  void output.report.then(
    (report) => finish({ status: output.status, ...report }),
    () => finish({ status: CLIENT_CLOSED }),
  ).finally(release)
  return new Response(output.body, { status: output.status, headers: { 'content-type': output.contentType } })
}

function upstreamErrorBody(status: number, text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) return parsed
  } catch {
    // not JSON: wrap it below
  }
  return openAIErrorBody(status, 'upstream_error', `Upstream answered ${status}`)
}

function errorResponse(err: unknown): Response {
  if (err instanceof EngineError) return openAIErrorResponse(err.status, err.code, err.message)
  if (err instanceof Error && err.name === 'AbortError') return openAIErrorResponse(499, 'client_closed', 'Client closed the request')
  return openAIErrorResponse(500, 'internal_error', 'Generation failed')
}

/** Seconds until a slot is likely free: the line ahead of this request over the slots, at recent speed. */
export function retryAfterSeconds(deps: Pick<ChatCompletionDeps, 'queue' | 'throughput'>): number {
  const meanSeconds = deps.throughput.meanRequestSeconds ?? 1
  const waitSeconds = ((deps.queue.queueDepth + 1) * meanSeconds) / deps.queue.slotsTotal
  return Math.min(600, Math.max(1, Math.ceil(waitSeconds)))
}

function account(deps: ChatCompletionDeps, requestId: string, startedAt: number, o: Outcome): void {
  const durationMs = performance.now() - startedAt
  deps.metrics.recordRequest({
    status: o.status,
    durationMs,
    promptTokens: o.usage?.promptTokens,
    cachedTokens: o.usage?.cachedTokens,
    completionTokens: o.usage?.completionTokens,
  })
  if (o.status === 200 && o.timings) {
    deps.throughput.record({
      prefillTokens: o.timings.prompt_n,
      prefillMs: o.timings.prompt_ms,
      decodeTokens: o.timings.predicted_n,
      decodeMs: o.timings.predicted_ms,
      durationMs,
    })
  }
  deps.log.info('chat.completion', {
    id: requestId,
    status: o.status,
    duration_ms: Math.round(durationMs),
    prompt_tokens: o.usage?.promptTokens,
    cached_tokens: o.usage?.cachedTokens,
    completion_tokens: o.usage?.completionTokens,
    prefill_tps: o.timings ? round1(o.timings.prompt_per_second) : undefined,
    decode_tps: o.timings ? round1(o.timings.predicted_per_second) : undefined,
  })
}

const round1 = (n: number) => Math.round(n * 10) / 10
