/**
 * The in-process engine: one GGUF model, one context with `parallel` sequences (node-llama-cpp batches
 * the sequences' tokens into shared decode calls: continuous batching), CPU only, prebuilt binary only.
 */
import { basename } from 'node:path'
import { getLlama, LlamaLogLevel, resolveChatWrapper, type ChatWrapper, type Llama, type LlamaContext, type LlamaModel } from 'node-llama-cpp'
import type { Logger } from '../log.js'
import { EngineError, type ChatRequest, type Engine, type EngineInfo, type EngineState, type PreparedCompletion } from '../types.js'
import { generate } from './generate.js'
import { buildPrompt } from './prompt.js'
import { createGrammarCache, type GrammarCache } from './sampling.js'
import { createSequencePool, type SequencePool } from './sequence-pool.js'

export interface LlamaEngineOptions {
  modelPath: string
  /** Name served in /v1/models and responses; default: the file name without `.gguf`. */
  modelName?: string
  threads: number
  parallel: number
  /** Tokens per sequence. */
  contextSize: number
  onLoadProgress?: (progress: number) => void
  log: Logger
}

interface Loaded {
  llama: Llama
  model: LlamaModel
  context: LlamaContext
  wrapper: ChatWrapper
  pool: SequencePool
  grammars: GrammarCache
}

export function createLlamaEngine(opts: LlamaEngineOptions): Engine {
  const modelName = opts.modelName ?? basename(opts.modelPath).replace(/\.gguf$/i, '')
  let state: EngineState = 'loading'
  let loadProgress = 0
  let loadError: string | undefined
  let loaded: Loaded | undefined

  const ready = (async () => {
    const startedAt = performance.now()
    const llama = await getLlama({
      gpu: false,
      build: 'never',
      maxThreads: opts.threads,
      logLevel: LlamaLogLevel.warn,
      // llama.cpp's own lines never contain prompts; route them through our JSON log.
      logger: (level, message) => opts.log.warn('llama.cpp', { level: String(level), message: message.trim() }),
    })
    const model = await llama.loadModel({
      modelPath: opts.modelPath,
      gpuLayers: 0,
      onLoadProgress(progress) {
        loadProgress = progress
        opts.onLoadProgress?.(progress)
      },
    })
    const context = await model.createContext({ sequences: opts.parallel, contextSize: opts.contextSize, threads: opts.threads })
    const sequences = Array.from({ length: opts.parallel }, () => context.getSequence())
    // Resolving the template costs ~0.3-1 s; once per model, never per request.
    const wrapper = resolveChatWrapper(model)
    loaded = { llama, model, context, wrapper, pool: createSequencePool(sequences), grammars: createGrammarCache(llama) }
    state = 'ready'
    loadProgress = 1
    opts.log.info('model.loaded', { model: modelName, load_ms: Math.round(performance.now() - startedAt), context_size: context.contextSize, threads: opts.threads, parallel: opts.parallel, chat_wrapper: wrapper.wrapperName })
  })().catch((err: unknown) => {
    state = 'failed'
    loadError = err instanceof Error ? err.message : String(err)
    throw err
  })
  ready.catch(() => {}) // observed by callers of `ready`

  return {
    ready,
    info(): EngineInfo {
      return { mode: 'llama', state, modelName, loadProgress, contextSize: loaded?.context.contextSize ?? opts.contextSize, threads: opts.threads, ...(loadError ? { error: loadError } : {}) }
    },
    async prepare(request: ChatRequest): Promise<PreparedCompletion> {
      if (!loaded || state !== 'ready') throw new EngineError(503, 'model_not_ready', `Model is ${state}`)
      const { model, wrapper, pool, grammars, context } = loaded
      const prompt = buildPrompt(model, wrapper, request.messages)
      if (prompt.tokens.length >= context.contextSize) {
        throw new EngineError(400, 'context_length_exceeded', `Prompt is ${prompt.tokens.length} tokens; this model's context holds ${context.contextSize}`, 'messages')
      }
      const grammar = await grammars.forFormat(request.responseFormat)
      return {
        run: async (signal) => ({ kind: 'events', events: generate({ model, pool, prompt, request, grammar, signal }) }),
      }
    },
    async close() {
      state = 'closed'
      await ready.catch(() => {})
      if (!loaded) return
      await loaded.context.dispose()
      await loaded.model.dispose()
      await loaded.llama.dispose()
      loaded = undefined
    },
  }
}
