/**
 * Shared by the node-host tests: a signing fetch (what the gateway does), SSE parsing, and a scripted
 * fake engine for HTTP-layer tests that need no model.
 */
import { importSigningKey, signRequest } from '../../src/signing.js'
import { EngineError, type ChatRequest, type Engine, type EngineEvent, type EngineInfo, type PreparedCompletion } from '../../node-host/types.js'

export const TEST_SECRET = 'node-host-test-secret-0123456789'
export const testKey = () => importSigningKey(TEST_SECRET)

/** A fetch that signs every request as the gateway does. Usable as the OpenAI SDK's `fetch`. */
export function signingFetch(key: CryptoKey, opts: { nowSeconds?: number } = {}): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init)
    const body = new Uint8Array(await request.arrayBuffer())
    const url = new URL(request.url)
    const signed = await signRequest(key, { method: request.method, pathAndQuery: url.pathname + url.search, body, nowSeconds: opts.nowSeconds })
    const headers = new Headers(request.headers)
    for (const [name, value] of Object.entries(signed)) headers.set(name, value)
    return fetch(request.url, { method: request.method, headers, body: request.method === 'GET' ? undefined : body, signal: init?.signal ?? request.signal })
  }
}

export async function postChat(baseUrl: string, key: CryptoKey, body: unknown, signal?: AbortSignal): Promise<Response> {
  return signingFetch(key)(`${baseUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal })
}

export type SseItem = { comment: string } | { data: string }

/** Reads SSE items as they arrive; `onItem` may return true to stop reading early. */
export async function readSse(res: Response, onItem?: (item: SseItem, all: SseItem[]) => boolean | void): Promise<SseItem[]> {
  const items: SseItem[] = []
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    buffered += decoder.decode(value, { stream: true })
    let end: number
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      const item: SseItem = block.startsWith(':') ? { comment: block.slice(1).trim() } : { data: block.replace(/^data: ?/, '') }
      items.push(item)
      if (onItem?.(item, items)) {
        await reader.cancel()
        return items
      }
    }
  }
  return items
}

export const dataJson = (items: SseItem[]) =>
  items.flatMap((i) => ('data' in i && i.data !== '[DONE]' ? [JSON.parse(i.data) as Record<string, any>] : [])) // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads loose JSON

export interface FakeEngineControls {
  engine: Engine
  /** Requests seen by prepare, in order. */
  requests: ChatRequest[]
  /** Number of runs currently generating. */
  running: () => number
  setState(state: EngineInfo['state'], progress?: number): void
}

/**
 * Emits `tokens` one per `tokenDelayMs` after `prefillMs`, honoring the abort signal at once.
 * A message content of 'fail' makes prepare throw a 400; 'slow:N' sets prefill to N ms.
 */
export function createFakeEngine(opts: { tokens?: string[]; tokenDelayMs?: number; prefillMs?: number } = {}): FakeEngineControls {
  const requests: ChatRequest[] = []
  let state: EngineInfo['state'] = 'ready'
  let progress = 1
  let running = 0
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms)
      signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true })
    })
  const engine: Engine = {
    ready: Promise.resolve(),
    info: () => ({ mode: 'llama', state, modelName: 'fake-model', loadProgress: progress, contextSize: 1024, threads: 1 }),
    async prepare(request): Promise<PreparedCompletion> {
      requests.push(request)
      const last = request.messages.at(-1)?.content ?? ''
      if (last === 'fail') throw new EngineError(400, 'context_length_exceeded', 'too long', 'messages')
      const prefillMs = last.startsWith('slow:') ? Number(last.slice(5)) : (opts.prefillMs ?? 0)
      const tokens = opts.tokens ?? ['<think>', 'hm', '</think>', 'Hel', 'lo']
      const max = request.maxTokens ?? tokens.length
      return {
        run: async (signal) => ({
          kind: 'events',
          events: (async function* (): AsyncGenerator<EngineEvent> {
            running++
            try {
              yield { type: 'start', promptTokens: 7, cachedTokens: 0, startsInReasoning: false }
              await sleep(prefillMs, signal)
              let n = 0
              for (const text of tokens.slice(0, max)) {
                yield { type: 'text', text, tokens: 1 }
                n++
                if (opts.tokenDelayMs) await sleep(opts.tokenDelayMs, signal)
              }
              yield {
                type: 'done',
                finishReason: n < tokens.length ? 'length' : 'stop',
                usage: { promptTokens: 7, completionTokens: n, cachedTokens: 0 },
                timings: { prompt_n: 7, prompt_ms: 10, prompt_per_second: 700, predicted_n: n, predicted_ms: 20, predicted_per_second: n * 50, cache_n: 0 },
              }
            } finally {
              running--
            }
          })(),
        }),
      }
    },
    async close() {},
  }
  return {
    engine,
    requests,
    running: () => running,
    setState(s, p = progress) {
      state = s
      progress = p
    },
  }
}
