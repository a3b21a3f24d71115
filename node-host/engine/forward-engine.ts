/**
 * Forward mode: node-host checks signatures, queues and meters, and an existing OpenAI-compatible
 * server (llama-server, vLLM, SGLang, ktransformers, Ollama) generates. Bodies stream through chunk by
 * chunk (pull-based, so a slow client slows the upstream read instead of filling memory).
 */
import { Agent, request as undiciRequest } from 'undici'
import type { Logger } from '../log.js'
import { EngineError, type ChatRequest, type Engine, type EngineInfo, type EngineState, type PassthroughOutput, type PreparedCompletion } from '../types.js'
import { createUsageSniffer } from './usage-sniffer.js'

export interface ForwardEngineOptions {
  /** Base URL, e.g. http://127.0.0.1:9931 (with or without a trailing /v1). */
  upstream: string
  /** Name served to clients; default: the upstream's first model id. */
  modelName?: string
  /** Rewrites the request's `model` for upstreams that check it (vLLM, Ollama). */
  upstreamModel?: string
  /** Sent as `Authorization: Bearer` to the upstream (vLLM --api-key). */
  upstreamApiKey?: string
  parallel: number
  log: Logger
}

const PROBE_CACHE_MS = 2000
const PROBE_TIMEOUT_MS = 3000

export function createForwardEngine(opts: ForwardEngineOptions): Engine {
  const base = opts.upstream.replace(/\/+$/, '').replace(/\/v1$/, '')
  // CPU prefill of a long prompt can take minutes before the first byte: generous timeouts, keep-alive pool.
  const agent = new Agent({ keepAliveTimeout: 60_000, connections: opts.parallel * 2, headersTimeout: 30 * 60_000, bodyTimeout: 10 * 60_000 })
  let state: EngineState = 'loading'
  let modelName = opts.modelName ?? 'upstream'
  let lastProbe: { atMs: number; result: { ok: boolean; detail?: string } } | undefined

  const authHeaders: Record<string, string> = opts.upstreamApiKey ? { authorization: `Bearer ${opts.upstreamApiKey}` } : {}

  async function get(path: string): Promise<{ status: number; json: unknown }> {
    const res = await undiciRequest(base + path, { dispatcher: agent, headers: authHeaders, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
    const text = await res.body.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: res.statusCode, json }
  }

  async function probe(): Promise<{ ok: boolean; detail?: string }> {
    if (lastProbe && Date.now() - lastProbe.atMs < PROBE_CACHE_MS) return lastProbe.result
    let result: { ok: boolean; detail?: string }
    try {
      const health = await get('/health')
      if (health.status === 404) {
        const models = await get('/v1/models')
        result = models.status === 200 ? { ok: true } : { ok: false, detail: `/v1/models answered ${models.status}` }
      } else result = health.status === 200 ? { ok: true } : { ok: false, detail: `/health answered ${health.status}` }
    } catch (err) {
      result = { ok: false, detail: `unreachable (${err instanceof Error ? err.message : String(err)})` }
    }
    lastProbe = { atMs: Date.now(), result }
    return result
  }

  const ready = (async () => {
    if (!opts.modelName) {
      try {
        const models = await get('/v1/models')
        const first = (models.json as { data?: Array<{ id?: unknown }> } | undefined)?.data?.[0]?.id
        if (typeof first === 'string') modelName = first
      } catch {
        opts.log.warn('upstream.models_unavailable', { upstream: base })
      }
    }
    state = 'ready'
  })()

  return {
    ready,
    info(): EngineInfo {
      return { mode: 'forward', state, modelName, loadProgress: state === 'ready' ? 1 : 0, contextSize: undefined, threads: undefined }
    },
    probe,
    async prepare(request: ChatRequest, rawBody: Uint8Array): Promise<PreparedCompletion> {
      const body = opts.upstreamModel ? withModel(rawBody, opts.upstreamModel) : rawBody
      return {
        run: async (signal): Promise<PassthroughOutput> => {
          let res: Awaited<ReturnType<typeof undiciRequest>>
          try {
            res = await undiciRequest(`${base}/v1/chat/completions`, {
              method: 'POST',
              dispatcher: agent,
              body,
              signal,
              headers: { 'content-type': 'application/json', accept: request.stream ? 'text/event-stream' : 'application/json', ...authHeaders },
            })
          } catch (err) {
            if (signal.aborted) throw err
            throw new EngineError(502, 'upstream_unreachable', `Upstream request failed: ${err instanceof Error ? err.message : String(err)}`)
          }
          const contentType = String(res.headers['content-type'] ?? 'application/json')
          const sniffer = createUsageSniffer(contentType)
          let settle!: (r: ReturnType<typeof sniffer.result>) => void
          let fail!: (err: unknown) => void
          const report = new Promise<ReturnType<typeof sniffer.result>>((resolve, reject) => {
            settle = resolve
            fail = reject
          })
          report.catch(() => {})
          const chunks = res.body[Symbol.asyncIterator]()
          const stream = new ReadableStream<Uint8Array>({
            async pull(controller) {
              try {
                const { done, value } = (await chunks.next()) as IteratorResult<Buffer>
                if (done) {
                  controller.close()
                  settle(sniffer.result())
                  return
                }
                const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
                sniffer.push(bytes)
                controller.enqueue(bytes)
              } catch (err) {
                fail(err)
                controller.error(err)
              }
            },
            async cancel(reason) {
              res.body.destroy()
              fail(reason ?? new Error('cancelled'))
            },
          })
          return { kind: 'passthrough', status: res.statusCode, contentType, body: stream, report }
        },
      }
    },
    async close() {
      state = 'closed'
      await agent.close()
    },
  }
}

function withModel(rawBody: Uint8Array, model: string): Uint8Array {
  const body = JSON.parse(new TextDecoder().decode(rawBody)) as Record<string, unknown>
  return new TextEncoder().encode(JSON.stringify({ ...body, model }))
}
