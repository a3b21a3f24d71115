/**
 * POST /v1/chat/completions: validate, prepare, wait for a slot, run, and answer in OpenAI's format
 * (JSON or SSE). The same for both engines; forward mode passes its upstream's bytes through.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { openAIErrorBody, openAIErrorResponse } from '../src/openai/errors.js'
import type { Logger } from './log.js'
import type { NodeHostMetrics } from './metrics.js'
import { combinedUsage, runChoice, type ChoiceResult } from './choice-output.js'
import { completion, newCompletionId, toOpenAIUsage, usageChunk, type ChunkContext } from './openai-format.js'
import type { SlotLease, SlotQueue } from './queue.js'
import { readChunks } from './streams.js'
import { createSseStream, SSE_HEADERS, type SseWriter } from './sse.js'
import type { ThroughputWindow } from './throughput.js'
import { EngineError, type ChatRequest, type Engine, type EngineOutput, type EventsOutput, type Timings, type TokenUsage } from './types.js'
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
  let prepared: Awaited<ReturnType<Engine['prepare']>>[]
  try {
    request = parseChatRequest(rawBody)
    // n > 1: one generation per choice, each with its own seed (seed + i) and slot; forward mode
    // leaves n to its upstream.
    const choices = info.mode === 'llama' ? request.n : 1
    prepared = await Promise.all(
      Array.from({ length: choices }, (_, i) => deps.engine.prepare(request.seed === undefined || i === 0 ? request : { ...request, seed: request.seed + i }, rawBody)),
    )
  } catch (err) {
    const res = errorResponse(err)
    finish({ status: res.status })
    return res
  }

  const aborter = new AbortController()
  const signal = AbortSignal.any([clientSignal, aborter.signal])
  const leasePromises = prepared.map(() => deps.queue.enter(signal))
  if (leasePromises.some((p) => p === undefined)) {
    aborter.abort()
    for (const p of leasePromises) void p?.then((lease) => lease.release(), () => {})
    finish({ status: 429 })
    return openAIErrorResponse(429, 'queue_full', `All ${deps.queue.slotsTotal} slots are busy and ${deps.queue.maxQueue} requests are waiting; retry later or elsewhere`, {
      'retry-after': String(retryAfterSeconds(deps)),
    })
  }

  const leases: SlotLease[] = []
  const runPromise = Promise.all(
    prepared.map(async (p, i): Promise<EngineOutput> => {
      const lease = await leasePromises[i]!
      leases.push(lease)
      return p.run(signal)
    }),
  )
  const release = () => {
    for (const lease of leases.splice(0)) lease.release()
  }
  // Settles both ways; observed below.
  runPromise.catch(() => {})

  const ctx: ChunkContext = { id: requestId, created: Math.floor(Date.now() / 1000), model: info.modelName, includeUsage: request.includeUsage }

  if (!request.stream) {
    try {
      const outputs = await runPromise
      const only = outputs[0]!
      if (only.kind === 'passthrough') return passthrough(only, release, finish)
      const results = await Promise.all(outputs.map((output, index) => runChoice(output as EventsOutput, { index, ctx })))
      release()
      const total = combinedUsage(results as ChoiceResult[])
      finish({ status: 200, usage: total.usage, timings: total.timings })
      return Response.json(completion(ctx, { choices: results as ChoiceResult[], usage: toOpenAIUsage(total.usage, total.reasoningTokens), timings: total.timings }))
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
    runPromise.then((outputs) => ({ outputs }), (error: unknown) => ({ error })),
    sleep(deps.keepAliveMs, undefined, { signal: commitTimer.signal }).catch(() => undefined),
  ])
  commitTimer.abort()
  if (early && 'error' in early) {
    release()
    const res = errorResponse(early.error)
    finish({ status: signal.aborted ? CLIENT_CLOSED : res.status })
    return res
  }
  const earlyOnly = early?.outputs[0]
  if (earlyOnly?.kind === 'passthrough' && earlyOnly.status !== 200) return passthrough(earlyOnly, release, finish)

  const { stream, signal: streamSignal } = createSseStream({
    keepAliveMs: deps.keepAliveMs,
    onError: (err) => (err instanceof EngineError ? openAIErrorBody(err.status, err.code, err.message) : openAIErrorBody(500, 'internal_error', 'Generation failed')),
    produce: async (writer) => {
      // Committed after a silent interval: tell the proxy we are alive right away.
      if (!early) writer.keepAlive()
      let outcome: Outcome = { status: 200 }
      try {
        const outputs = await runPromise
        const only = outputs[0]!
        outcome = only.kind === 'passthrough' ? await streamPassthrough(only, writer) : await streamChoices(outputs as EventsOutput[], ctx, writer, signal)
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

async function streamChoices(outputs: EventsOutput[], ctx: ChunkContext, writer: SseWriter, signal: AbortSignal): Promise<Outcome> {
  const results = await Promise.all(outputs.map((output, index) => runChoice(output, { index, ctx, writer, signal })))
  if (results.some((r) => r === undefined)) return { status: CLIENT_CLOSED }
  const total = combinedUsage(results as ChoiceResult[])
  if (ctx.includeUsage) writer.data(usageChunk(ctx, toOpenAIUsage(total.usage, total.reasoningTokens), total.timings))
  writer.done()
  return { status: 200, usage: total.usage, timings: total.timings }
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
  if (err instanceof EngineError) return Response.json(openAIErrorBody(err.status, err.code, err.message, err.param), { status: err.status })
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
