/**
 * The in-process engine: one GGUF model, one context with `parallel` sequences (node-llama-cpp batches
 * the sequences' tokens into shared decode calls: continuous batching), CPU only, prebuilt binary only.
 */
import { basename } from 'node:path'
import { resolveChatWrapper, type ChatWrapper, type LlamaContext, type LlamaModel } from 'node-llama-cpp'
import type { Logger } from '../log.js'
import { EngineError, type ChatRequest, type Engine, type EngineInfo, type EngineState, type PreparedCompletion } from '../types.js'
import { createBatchGate, type BatchGate } from './batch-gate.js'
import { createDecodeModeChooser, modeChangeFields, type BatchingPolicy } from './decode-mode.js'
import { generate } from './generate.js'
import { chooseCpuVariant, type VariantChoice } from '../cpu/choose-variant.js'
import { loadedVariant, setLlamaLogSink, sharedLlama } from './llama-binding.js'
import { createPromptBuilder, type PromptBuilder } from './prompt.js'
import { createToolGrammarCache, type ToolGrammarCache } from './tool-grammar.js'
import { planTools } from './tool-plan.js'
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
  /** llama.cpp CPU backend variant: 'auto' (default) or a name (node-host doctor lists them). */
  cpuVariant?: string
  /** Batched or one-at-a-time decode of concurrent sequences; 'auto' (default) measures which is faster. */
  batching?: BatchingPolicy
  /** Where variant folders and probe verdicts are kept; default node-host's cache directory. */
  cacheDir?: string
  onLoadProgress?: (progress: number) => void
  log: Logger
}

interface Loaded {
  model: LlamaModel
  context: LlamaContext
  prompts: PromptBuilder
  pool: SequencePool
  grammars: GrammarCache
  toolGrammars: ToolGrammarCache
  vocabularySize: number
  gate: BatchGate
}

export function createLlamaEngine(opts: LlamaEngineOptions): Engine {
  const modelName = opts.modelName ?? basename(opts.modelPath).replace(/\.gguf$/i, '')
  const batching = opts.batching ?? 'auto'
  let state: EngineState = 'loading'
  let loadProgress = 0
  let loadError: string | undefined
  let loaded: Loaded | undefined
  let choice: VariantChoice | undefined

  const ready = (async () => {
    const startedAt = performance.now()
    setLlamaLogSink((level, message) => opts.log.warn('llama.cpp', { level, message }))
    // Proven in a child first: llama.cpp aborts the process on some model/variant pairs.
    choice = await chooseCpuVariant({
      modelPath: opts.modelPath,
      modelName,
      requested: opts.cpuVariant ?? 'auto',
      sequences: opts.parallel,
      contextSize: opts.contextSize,
      threads: opts.threads,
      loaded: loadedVariant(),
      cacheDir: opts.cacheDir,
      log: opts.log,
    })
    const provedAt = performance.now()
    const llama = await sharedLlama(choice.folder)
    const llamaReadyAt = performance.now()
    const model = await llama.loadModel({
      modelPath: opts.modelPath,
      gpuLayers: 0,
      onLoadProgress(progress) {
        loadProgress = progress
        opts.onLoadProgress?.(progress)
      },
    })
    const modelLoadedAt = performance.now()
    const context = await model.createContext({ sequences: opts.parallel, contextSize: opts.contextSize, threads: opts.threads })
    const sequences = Array.from({ length: opts.parallel }, () => context.getSequence())
    // Resolving the template costs ~0.3-1 s; once per model, never per request.
    const wrapperAt = performance.now()
    const wrapper = resolveChatWrapper(model)
    const prompts = createPromptBuilder(model, wrapper)
    const vocabularySize = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0
    loaded = { model, context, prompts, pool: createSequencePool(sequences), grammars: createGrammarCache(llama), toolGrammars: createToolGrammarCache(llama), vocabularySize, gate: createBatchGate(createDecodeModeChooser(batching, (change) => opts.log.info('decode.mode', modeChangeFields(change)))) }
    state = 'ready'
    loadProgress = 1
    const ms = (from: number, to: number) => Math.round(to - from)
    opts.log.info('model.loaded', {
      model: modelName,
      total_ms: ms(startedAt, performance.now()),
      cpu_variant: choice.variant,
      cpu_variant_reason: choice.reason,
      // llama.cpp's system-info line: the CPU features the loaded variant really uses.
      cpu_features: llama.systemInfo,
      probe_ms: ms(startedAt, provedAt),
      llama_binding_ms: ms(provedAt, llamaReadyAt),
      model_load_ms: ms(llamaReadyAt, modelLoadedAt),
      context_ms: ms(modelLoadedAt, wrapperAt),
      chat_template_ms: ms(wrapperAt, performance.now()),
      context_size: context.contextSize,
      threads: opts.threads,
      parallel: opts.parallel,
      batching,
      chat_wrapper: wrapper.wrapperName,
    })
  })().catch((err: unknown) => {
    state = 'failed'
    // One line: /health and the gateway's admin view show it as it is.
    loadError = (err instanceof Error ? err.message : String(err)).split('\n')[0]
    throw err
  })
  ready.catch(() => {}) // observed by callers of `ready`

  return {
    ready,
    info(): EngineInfo {
      return { mode: 'llama', state, modelName, loadProgress, contextSize: loaded?.context.contextSize ?? opts.contextSize, threads: opts.threads, ...(choice ? { cpuVariant: choice.variant } : {}), ...(loaded ? { batching: loaded.gate.batching() } : {}), ...(loadError ? { error: loadError } : {}) }
    },
    async prepare(request: ChatRequest): Promise<PreparedCompletion> {
      if (!loaded || state !== 'ready') throw new EngineError(503, 'model_not_ready', `Model is ${state}`)
      const { model, prompts, pool, grammars, toolGrammars, context, gate, vocabularySize } = loaded
      for (const token of request.logitBias.keys()) {
        if (token >= vocabularySize) throw new EngineError(400, 'invalid_request_error', `'logit_bias' names token ${token}; this model's vocabulary has ${vocabularySize}`, 'logit_bias')
      }
      const prompt = prompts.build(request)
      if (prompt.tokens.length >= context.contextSize) {
        throw new EngineError(400, 'context_length_exceeded', `Prompt is ${prompt.tokens.length} tokens; this model's context holds ${context.contextSize}`, 'messages')
      }
      const grammar = await grammars.forFormat(request.responseFormat)
      const tools = await planTools(request, prompt, prompts.toolTokens, toolGrammars)
      return {
        run: async (signal) => ({ kind: 'events', events: generate({ model, pool, prompt, request, grammar, signal, gate, ...(tools ? { tools } : {}) }) }),
      }
    },
    async close() {
      state = 'closed'
      await ready.catch(() => {})
      if (!loaded) return
      await loaded.context.dispose()
      await loaded.model.dispose()
      // The binding stays loaded: it is shared by the process (see llama-binding.ts).
      loaded = undefined
    },
  }
}
