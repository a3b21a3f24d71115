/**
 * What llama.cpp itself gives k streams on this machine: node-llama-cpp driven directly, in this process,
 * k sequences of one context in lock step: each step asks every sequence's evaluate() iterator for its
 * next token in the same tick, so node-llama-cpp queues all k and decodes them in one batch. Same sampling
 * and grammar as the node-host benchmarks; no HTTP, JSON, SSE or batch gate: the engine's own ceiling for
 * node-host's batching. (k free-running evaluate() loops are no baseline: they drift out of phase and
 * decode alone, see node-host/engine/batch-gate.ts.)
 */
import { getLlama, LlamaGrammarEvaluationState, LlamaLogLevel, type LlamaContext, type LlamaContextSequence, type LlamaGrammar, type LlamaModel } from 'node-llama-cpp'
import { LONG_GRAMMAR, SYSTEM_PROMPT, USER_PROMPT } from './node-host-client.js'

export interface Lockstep {
  /**
   * Aggregate tok/s of `streams` sequences over `steps` steps after their first token; `serial`
   * decodes them one after another in each step instead of in one batch.
   */
  tokensPerSecond(streams: number, steps: number, seed: number, mode?: 'batched' | 'serial'): Promise<number>
  close(): Promise<void>
}

export async function openLockstep(modelPath: string, opts: { threads: number; sequences: number; contextSize: number }): Promise<Lockstep> {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 0, logLevel: LlamaLogLevel.warn })
  const model: LlamaModel = await llama.loadModel({ modelPath, gpuLayers: 0 })
  const context: LlamaContext = await model.createContext({ sequences: opts.sequences, contextSize: opts.contextSize, threads: opts.threads })
  const sequences: LlamaContextSequence[] = Array.from({ length: opts.sequences }, () => context.getSequence())
  const grammar: LlamaGrammar = await llama.createGrammar({ grammar: LONG_GRAMMAR })
  const prompt = model.tokenize(`${SYSTEM_PROMPT}\n${USER_PROMPT}`)
  return {
    async tokensPerSecond(streams, steps, seed, mode = 'batched') {
      const running = sequences.slice(0, streams)
      await Promise.all(running.map((s) => s.clearHistory()))
      // node-host's sampling defaults: temperature 1, top_k 40, top_p 1, min_p 0.
      const iterators = running.map((s, i) =>
        s.evaluate(prompt, { temperature: 1, topK: 40, topP: 1, minP: 0, seed: seed * 10 + i, grammarEvaluationState: new LlamaGrammarEvaluationState({ model, grammar }), yieldEogToken: true }),
      )
      const step =
        mode === 'batched'
          ? () => Promise.all(iterators.map((it) => it.next()))
          : async () => {
              for (const it of iterators) await it.next()
            }
      try {
        await step()
        const startedAt = performance.now()
        for (let i = 0; i < steps; i++) await step()
        return (streams * steps * 1000) / (performance.now() - startedAt)
      } finally {
        await Promise.all(iterators.map((it) => it.return(undefined)))
      }
    },
    async close() {
      await context.dispose()
      await model.dispose()
    },
  }
}
