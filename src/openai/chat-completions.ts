import type { Context } from 'hono'
import type { Backend } from '../backends/backend.js'
import { hostShareOf, POOL_HOST_HEADER } from '../backends/pool-response.js'
import type { GatewayConfig } from '../config.js'
import type { GatewayEnv } from '../env.js'
import { estimateUsage, promptChars } from '../metering/estimate.js'
import { tokenUsageFrom } from '../metering/token-usage.js'
import { UsageRecorder, type CostFn } from '../metering/usage-recorder.js'
import type { UsageSink, WaitUntil } from '../metering/usage-sink.js'
import { admitAll } from '../limits/admit.js'
import type { RequestGuard } from '../limits/guard.js'
import type { Logger } from '../log.js'
import type { HostedSwitch } from '../routing/hosted-switch.js'
import { prepareAliased, type AliasBook } from '../routing/model-aliases.js'
import type { ClientGone } from '../routing/client-gone.js'
import type { BackendName } from '../routing/plan.js'
import { routeRequest } from '../routing/route-request.js'
import { sendWithFallback } from '../routing/send-with-fallback.js'
import { parseChatRequest, upstreamBody } from './chat-request.js'
import { openAIErrorResponse } from './errors.js'
import { meteredStream } from './metered-stream.js'
import { readBodyLimited } from './read-body.js'
import { failedUpstreamResponse } from './upstream-error.js'

export interface ChatDeps {
  config: GatewayConfig
  backends: Partial<Record<BackendName, Backend>>
  usage: UsageSink
  cost: CostFn
  now: () => number
  /** Rate limits, budgets, key restrictions: run after parsing, before any upstream call. */
  guards: readonly RequestGuard[]
  log: Logger
  /** Skips hosted for teams a DeepSeek 402 switched it off for. */
  hostedSwitch: HostedSwitch
  /** Public model names that map to other names per backend (model_aliases). */
  aliases: AliasBook
  /** Whether the request's client is still there (Workers: its signal; Node: its response). */
  clientGone: (c: Context) => ClientGone
}

// Template tokens a chat format adds per message (role markers, separators), generously.
const TEMPLATE_TOKENS_PER_MESSAGE = 16

/** Only Workers sinks need the request's waitUntil; Hono's getter throws where there is none (Node). */
function waitUntilOf(c: Context, sink: UsageSink): WaitUntil | undefined {
  if (!sink.needsWaitUntil) return undefined
  const ctx = c.executionCtx
  return (p) => ctx.waitUntil(p)
}

/**
 * `POST /v1/chat/completions`: route to local or hosted, fall back before the first byte,
 * pass the answer through untouched, and leave exactly one usage row.
 */
export function chatCompletions(deps: ChatDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const key = c.get('key')
    const requestId = c.get('requestId')
    if (!key.teamId) return openAIErrorResponse(403, 'admin_key_not_for_api', 'Gateway admin keys cannot call the model API; create a team key')
    const startedAtMs = deps.now()
    const recorder = new UsageRecorder(requestId, { teamId: key.teamId, keyId: key.id, startedAtMs }, { sink: deps.usage, cost: deps.cost, now: deps.now, waitUntil: waitUntilOf(c, deps.usage), onAfterFinishError: (err) => deps.log.error('settle after usage failed', { requestId, error: err instanceof Error ? err.name : 'unknown' }) })
    // A plain object: @hono/node-server writes it as is, where a Web Headers is built and then converted.
    const headers: Record<string, string> = { 'x-request-id': requestId }
    const reject = (status: number, code: string, message: string) => {
      recorder.finish({ status, errorCode: code })
      return openAIErrorResponse(status, code, message, headers)
    }

    const read = await readBodyLimited(c.req.raw, deps.config.maxBodyBytes)
    if (!read.ok) return read.reason === 'too_large' ? reject(413, 'request_too_large', `Request body exceeds ${deps.config.maxBodyBytes} bytes`) : reject(400, 'unreadable_body', 'The request body could not be read')
    const parsed = parseChatRequest(read.bytes)
    if (!parsed.ok) return reject(400, parsed.code, parsed.message)
    const request = parsed.request
    recorder.requestedModel = request.model
    recorder.streamed = request.stream

    const alias = (await deps.aliases.all()).get(request.model)
    recorder.hostedModel = alias ? alias.hostedModel : request.model
    const plan = await routeRequest(deps, {
      key,
      model: request.model,
      alias,
      bodyBytes: read.bytes.byteLength,
      maxTokens: maxTokensOf(request.body),
      overrideHeader: c.req.header('x-moe-backend'),
      deadlineHeader: c.req.header('x-moe-deadline-ms'),
      recorder,
    })
    if (!plan.ok) return reject(plan.status, plan.code, plan.message)
    const admission = await admitAll(deps.guards, {
      requestId,
      key,
      model: request.model,
      hostedModel: alias?.hostedModel ?? undefined,
      order: plan.order,
      // Every prompt token comes from the body's bytes (byte-level BPE never yields more tokens than bytes).
      promptTokensBound: read.bytes.byteLength + TEMPLATE_TOKENS_PER_MESSAGE * (request.body.messages as unknown[]).length,
      maxCompletionTokens: maxTokensOf(request.body),
      nowMs: startedAtMs,
    })
    recorder.afterFinish = admission.settle
    Object.assign(headers, admission.headers)
    if (!admission.ok) return reject(admission.status, admission.code, admission.message)

    const order: Array<{ backend: Backend; body: Record<string, unknown> }> = []
    let refusal: { status: number; code: string; message: string } | undefined
    for (const name of admission.order) {
      const backend = deps.backends[name]
      const prepared = backend && prepareAliased(backend, request.body, request.model, alias)
      if (!backend || !prepared) continue
      if (prepared.ok) order.push({ backend, body: upstreamBody(request, prepared.body) })
      else refusal ??= prepared
    }
    if (order.length === 0) return reject(refusal?.status ?? 503, refusal?.code ?? 'backend_unavailable', refusal?.message ?? 'No backend can serve this request')

    const result = await sendWithFallback({
      order,
      stream: request.stream,
      client: deps.clientGone(c),
      timeoutMs: request.stream ? deps.config.firstByteTimeoutMs : deps.config.responseTimeoutMs,
    })
    await deps.hostedSwitch.observe(key.teamId, result)
    const routing = {
      backend: result.backend?.name ?? null,
      backendHost: result.kind === 'served' ? result.response.headers.get(POOL_HOST_HEADER) : null,
      hostShare: result.kind === 'served' ? hostShareOf(result.response) : undefined,
      fellBack: result.fallbackReason !== undefined,
      fallbackReason: result.fallbackReason ?? null,
      attempts: result.attempts,
    }
    if (result.backend) headers['x-moe-backend'] = result.backend.name
    if (result.fallbackReason) headers['x-moe-fallback-reason'] = result.fallbackReason
    const chars = promptChars(request.body.messages)

    if (result.kind === 'client_gone') {
      recorder.finish({ ...routing, status: 499, errorCode: 'client_closed_request', clientAborted: true, usage: estimateUsage({ promptChars: chars, contentChars: 0, reasoningChars: 0 }), usageEstimated: true })
      return openAIErrorResponse(499, 'client_closed_request', 'Client closed the request', headers)
    }
    if (result.kind === 'failed') {
      const { response, errorCode } = failedUpstreamResponse(result, headers)
      recorder.finish({ ...routing, status: response.status, errorCode })
      return response
    }
    if (result.reader && result.firstChunk) {
      headers['content-type'] = 'text/event-stream; charset=utf-8'
      headers['cache-control'] = 'no-cache'
      const body = meteredStream({
        reader: result.reader,
        firstChunk: result.firstChunk,
        upstreamAbort: result.upstreamAbort,
        idleTimeoutMs: deps.config.streamIdleTimeoutMs,
        clientWantsUsage: request.clientWantsUsage,
        promptChars: chars,
        recorder,
        startedAtMs,
        now: deps.now,
        outcome: routing,
      })
      return new Response(body, { status: 200, headers })
    }
    const text = result.bodyText ?? ''
    const answer = safeJson(text) as { usage?: unknown; model?: unknown; choices?: Array<{ message?: { content?: unknown; reasoning_content?: unknown } }> } | undefined
    const usage = tokenUsageFrom(answer?.usage)
    const message = answer?.choices?.[0]?.message
    recorder.finish({
      ...routing,
      status: 200,
      upstreamModel: typeof answer?.model === 'string' ? answer.model : null,
      usage: usage ?? estimateUsage({ promptChars: chars, contentChars: lengthOf(message?.content), reasoningChars: lengthOf(message?.reasoning_content) }),
      usageEstimated: usage === undefined,
    })
    headers['content-type'] = 'application/json'
    return new Response(text, { status: 200, headers })
  }
}

function maxTokensOf(body: Record<string, unknown>): number | undefined {
  const value = body.max_completion_tokens ?? body.max_tokens
  return typeof value === 'number' ? value : undefined
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function lengthOf(value: unknown): number {
  return typeof value === 'string' ? value.length : 0
}
