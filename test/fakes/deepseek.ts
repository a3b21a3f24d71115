/**
 * A loopback stand-in for the hosted DeepSeek API (api.deepseek.com), speaking its documented
 * wire format so the gateway and the official `openai` SDK can talk to it unchanged.
 *
 * const fake = await startFakeDeepSeek({ apiKeys: ['sk-test'] })
 * new OpenAI({ baseURL: fake.url, apiKey: 'sk-test' })   // or `${fake.url}/v1`
 *
 * Endpoints: POST /chat/completions, GET /models, GET /user/balance, each also under /v1
 * (DeepSeek accepts both base URLs). Token counting and cache-hit rules: deepseek/tokens.ts.
 * Answers and completion-token rules: deepseek/answer.ts. Errors: deepseek/errors.ts.
 * Behaviors (failures, delays, keep-alives): FakeBehavior in deepseek/types.ts.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { planAnswer } from './deepseek/answer.js'
import { FORCED_STATUS_ERROR, sendError } from './deepseek/errors.js'
import { modelList, resolveModel } from './deepseek/models.js'
import { sendCompletion, sendStream, sleep, type ResponseContext } from './deepseek/respond.js'
import { PromptCache, lastUserText, promptSequence } from './deepseek/tokens.js'
import type { FakeBalance, FakeBehavior, FakeDeepSeek, FakeDeepSeekOptions, RecordedRequest } from './deepseek/types.js'
import { checkChatBody, parseJson } from './deepseek/validate.js'

export type { FakeBehavior, FakeDeepSeek, FakeDeepSeekOptions, FakeErrorStatus, FakeUsage, RecordedRequest } from './deepseek/types.js'
export { DEEPSEEK_ERRORS } from './deepseek/errors.js'
export { DEFAULT_CONTENT_PIECES, DEFAULT_REASONING_PIECES, TOOL_ARGUMENT_PIECE_CHARS } from './deepseek/answer.js'

export const DEFAULT_FAKE_API_KEY = 'sk-fake-deepseek'
export const BEHAVIOR_HEADER = 'x-fake-behavior'

const DEFAULT_BALANCE: FakeBalance = {
  is_available: true,
  balance_infos: [{ currency: 'USD', total_balance: '110.00', granted_balance: '10.00', topped_up_balance: '100.00' }],
}

type Route = 'chat' | 'models' | 'balance'
const ROUTES: Record<string, { method: string; route: Route }> = {
  '/chat/completions': { method: 'POST', route: 'chat' },
  '/models': { method: 'GET', route: 'models' },
  '/user/balance': { method: 'GET', route: 'balance' },
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')))
    req.on('error', reject)
  })
}

function sendJson(res: ServerResponse, record: RecordedRequest, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify(value))
  record.status = 200
  record.completedAtMs = Date.now()
}

/** Header beats body field beats server behavior. Throws on a header that is not a JSON object. */
function effectiveBehavior(server: FakeBehavior, header: string | string[] | undefined, body: unknown): FakeBehavior {
  const fromBody = typeof body === 'object' && body !== null ? (body as { fake_behavior?: unknown }).fake_behavior : undefined
  let fromHeader: unknown
  if (typeof header === 'string') {
    fromHeader = JSON.parse(header)
    if (typeof fromHeader !== 'object' || fromHeader === null) throw new Error('not a JSON object')
  }
  return { ...server, ...(typeof fromBody === 'object' ? (fromBody as FakeBehavior) : {}), ...(fromHeader as FakeBehavior | undefined) }
}

export async function startFakeDeepSeek(opts: FakeDeepSeekOptions = {}): Promise<FakeDeepSeek> {
  const apiKeys = new Set(opts.apiKeys ?? [DEFAULT_FAKE_API_KEY])
  const cache = new PromptCache(opts.cacheBlockTokens ?? 64)
  const requests: RecordedRequest[] = []
  let serverBehavior: FakeBehavior = { ...opts.behavior }
  let aborted = 0
  let closing = false
  let seq = 0

  /** Bearer key, or the status already sent. */
  function authenticate(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): string | undefined {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')
    if (!match?.[1]) {
      record.status = sendError(res, 'authHeaderFormat')
      return undefined
    }
    record.apiKey = match[1]
    if (!apiKeys.has(match[1])) {
      record.status = sendError(res, 'authInvalidKey', { last4: match[1].slice(-4) })
      return undefined
    }
    return match[1]
  }

  async function handleChat(req: IncomingMessage, ctx: ResponseContext): Promise<void> {
    const { res, record } = ctx
    await sleep(ctx.behavior.delayBeforeHeadersMs ?? 0, ctx.signal)
    if (ctx.signal.aborted) return
    const apiKey = authenticate(req, res, record)
    if (apiKey === undefined) return
    const parsed = parseJson(record.rawBody)
    if (!parsed.ok) return void (record.status = sendError(res, parsed.error, { detail: parsed.detail }))
    const checked = checkChatBody(parsed.value)
    if (!checked.ok) return void (record.status = sendError(res, checked.error, { detail: checked.detail }))
    const body = checked.value
    const resolved = resolveModel(body.model, body, { thinkingByDefault: opts.thinkingByDefault ?? true, acceptRetiredAliases: opts.acceptRetiredAliases ?? true })
    if (!resolved) return void (record.status = sendError(res, 'modelNotExist'))
    const forced = ctx.behavior.status
    if (forced !== undefined) {
      const headers: Record<string, string> = forced === 429 ? { 'retry-after': String(ctx.behavior.retryAfterSeconds ?? 1) } : {}
      return void (record.status = sendError(res, FORCED_STATUS_ERROR[forced], { headers, ...(forced === 422 ? { detail: 'forced by the fake' } : {}) }))
    }
    const prompt = promptSequence(body.messages)
    const cacheHitTokens = cache.hitTokens(apiKey, prompt)
    cache.remember(apiKey, prompt)
    const plan = planAnswer({
      seq: record.seq,
      requestedModel: body.model,
      thinking: resolved.thinking,
      behavior: ctx.behavior,
      tools: body.tools,
      lastUserText: lastUserText(body.messages),
      maxTokens: body.max_tokens,
      promptTokens: prompt.length,
      cacheHitTokens,
    })
    Object.assign(record, { servedModel: resolved.servedModel, thinking: resolved.thinking, usage: plan.usage, stream: body.stream === true })
    if (body.stream === true) await sendStream(ctx, plan, body.stream_options?.include_usage === true)
    else await sendCompletion(ctx, plan)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req)
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const record: RecordedRequest = {
      seq: ++seq, method: req.method ?? 'GET', path, headers: req.headers, body: undefined, rawBody,
      receivedAtMs: Date.now(), behavior: {}, chunksSent: 0, keepAlivesSent: 0,
    }
    const parsed = rawBody ? parseJson(rawBody) : undefined
    if (parsed?.ok) record.body = parsed.value
    if (opts.recordRequests !== false) requests.push(record)

    const controller = new AbortController()
    let serverDestroyed = false
    res.on('close', () => {
      if (!res.writableFinished && !serverDestroyed && !closing) {
        record.abortedAtMs = Date.now()
        aborted++
      }
      // Only a response cut short has work to stop; aborting after every answer cost a DOMException each.
      if (!res.writableFinished) controller.abort()
    })

    const route = ROUTES[path.startsWith('/v1/') ? path.slice(3) : path]
    if (!route || route.method !== req.method) return void (record.status = sendError(res, 'notFound'))
    if (route.route === 'models' || route.route === 'balance') {
      if (authenticate(req, res, record) === undefined) return
      return sendJson(res, record, route.route === 'models' ? modelList() : (opts.balance ?? DEFAULT_BALANCE))
    }
    try {
      record.behavior = effectiveBehavior(serverBehavior, req.headers[BEHAVIOR_HEADER], record.body)
    } catch (err) {
      // A test bug, not a DeepSeek behavior: say so loudly.
      res.writeHead(400, { 'content-type': 'application/json' })
      return void res.end(JSON.stringify({ error: { message: `fake-deepseek: bad ${BEHAVIOR_HEADER} header: ${String(err)}`, type: 'fake_error', param: null, code: 'fake_error' } }))
    }
    await handleChat(req, { res, record, behavior: record.behavior, signal: controller.signal, markServerDestroyed: () => (serverDestroyed = true) })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: `fake-deepseek crashed: ${String(err)}`, type: 'fake_error', param: null, code: 'fake_error' } }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get aborted() {
      return aborted
    },
    setBehavior(behavior) {
      serverBehavior = { ...behavior }
    },
    reset() {
      requests.length = 0
      aborted = 0
      cache.clear()
      serverBehavior = { ...opts.behavior }
    },
    close() {
      closing = true
      server.closeAllConnections()
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
    },
  }
}
