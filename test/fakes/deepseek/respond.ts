/**
 * Puts an AnswerPlan on the wire, applying the timing and failure behaviors:
 * queue keep-alives, token pacing (with keep-alives in the gaps), hangs before the first token or
 * mid-stream, mid-stream socket destruction, malformed JSON.
 */

import type { ServerResponse } from 'node:http'
import { completionBody, streamChunks, type AnswerPlan } from './answer.js'
import type { FakeBehavior, RecordedRequest } from './types.js'

export interface ResponseContext {
  res: ServerResponse
  record: RecordedRequest
  behavior: FakeBehavior
  /** Aborted when the client goes away or the fake closes. */
  signal: AbortSignal
  /** Called before the fake destroys a socket itself, so it is not counted as a client abort. */
  markServerDestroyed(): void
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })))
}

function drainedOrAborted(res: ResponseContext['res'], signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    res.once('drain', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

function writeHead(ctx: ResponseContext, headers: Record<string, string>): void {
  ctx.res.writeHead(200, headers)
  ctx.res.flushHeaders()
  ctx.record.status = 200
}

function destroy(ctx: ResponseContext): void {
  ctx.markServerDestroyed()
  ctx.res.socket?.destroy()
}

/** DeepSeek "Rate Limit" page: while queued, streams get `: keep-alive` comments, others empty lines. */
async function sendKeepAlives(ctx: ResponseContext, line: string): Promise<void> {
  const count = ctx.behavior.keepAliveCount ?? 0
  for (let i = 0; i < count && !ctx.signal.aborted; i++) {
    if (i > 0) await sleep(ctx.behavior.keepAliveIntervalMs ?? 10, ctx.signal)
    if (ctx.signal.aborted) return
    ctx.res.write(line)
    ctx.record.keepAlivesSent++
  }
}

/** The gap before a streamed chunk, with a keep-alive comment every `keepAliveEveryMs` when set. */
async function chunkGap(ctx: ResponseContext, ms: number): Promise<void> {
  const every = ctx.behavior.keepAliveEveryMs
  const until = Date.now() + ms
  while (every && !ctx.signal.aborted && Date.now() + every < until) {
    await sleep(every, ctx.signal)
    if (ctx.signal.aborted) return
    ctx.res.write(': keep-alive\n\n')
    ctx.record.keepAlivesSent++
  }
  await sleep(until - Date.now(), ctx.signal)
}

function malformed(json: string): string {
  return json.slice(0, Math.max(1, Math.floor(json.length / 2)))
}

export async function sendStream(ctx: ResponseContext, plan: AnswerPlan, includeUsage: boolean): Promise<void> {
  const { behavior, res, record, signal } = ctx
  writeHead(ctx, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' })
  await sendKeepAlives(ctx, ': keep-alive\n\n')
  if (behavior.hangBeforeFirstToken) await untilAborted(signal)
  if (signal.aborted) return
  const events = streamChunks(plan, includeUsage, behavior.omitUsage ?? false).map((chunk, i) => {
    const json = JSON.stringify(chunk)
    return i === behavior.malformedChunkAt ? malformed(json) : json
  })
  events.push('[DONE]')
  if (behavior.closeAfterChunks === 0) return destroy(ctx)
  for (const [i, event] of events.entries()) {
    if (i > 0) await chunkGap(ctx, behavior.tokenDelayMs ?? 0)
    if (signal.aborted) return
    const flushed = res.write(`data: ${event}\n\n`)
    record.chunksSent++
    if (!flushed && behavior.respectBackpressure) await drainedOrAborted(res, signal)
    if (behavior.closeAfterChunks !== undefined && record.chunksSent >= behavior.closeAfterChunks && i < events.length - 1) return destroy(ctx)
    if (behavior.hangAfterChunks !== undefined && record.chunksSent >= behavior.hangAfterChunks && i < events.length - 1) return untilAborted(signal)
  }
  res.end()
  record.completedAtMs = Date.now()
}

export async function sendCompletion(ctx: ResponseContext, plan: AnswerPlan): Promise<void> {
  const { behavior, res, record, signal } = ctx
  const headers = { 'content-type': 'application/json' }
  const keepAlives = (behavior.keepAliveCount ?? 0) > 0
  // Headers go out early only when something must be sent before the body.
  if (keepAlives || behavior.hangBeforeFirstToken || behavior.closeAfterChunks !== undefined) writeHead(ctx, headers)
  await sendKeepAlives(ctx, '\n')
  if (behavior.hangBeforeFirstToken) await untilAborted(signal)
  // A non-streamed answer arrives once it is fully generated.
  await sleep((behavior.tokenDelayMs ?? 0) * plan.usage.completion_tokens, signal)
  if (signal.aborted) return
  if (behavior.closeAfterChunks !== undefined) return destroy(ctx)
  const json = JSON.stringify(completionBody(plan, behavior.omitUsage ?? false))
  if (!res.headersSent) writeHead(ctx, headers)
  res.end(behavior.malformedChunkAt !== undefined ? malformed(json) : json)
  record.completedAtMs = Date.now()
}
