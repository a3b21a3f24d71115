/**
 * Maps OpenAI sampling fields onto node-llama-cpp's evaluate options, and response_format onto a
 * grammar. Grammars are compiled once and cached (a JSON schema grammar takes a while to build).
 */
import { LlamaGrammarEvaluationState, TokenBias, type Llama, type LlamaGrammar, type LlamaModel, type SequenceEvaluateOptions, type Token } from 'node-llama-cpp'
import { EngineError, type ChatRequest, type ResponseFormat } from '../types.js'

/** OpenAI's defaults (temperature 1, top_p 1), with llama-server's top_k 40 to keep sampling cheap on large vocabularies. */
const DEFAULT_TEMPERATURE = 1
const DEFAULT_TOP_K = 40
const PENALTY_WINDOW_TOKENS = 64
const GRAMMAR_CACHE_SIZE = 32

export interface GrammarCache {
  forFormat(format: ResponseFormat): Promise<LlamaGrammar | undefined>
}

export function createGrammarCache(llama: Llama): GrammarCache {
  const cache = new Map<string, Promise<LlamaGrammar>>()
  return {
    async forFormat(format) {
      if (format.type === 'text') return undefined
      const key = format.type === 'json_object' ? 'json' : format.type === 'gbnf' ? `gbnf:${format.grammar}` : `schema:${JSON.stringify(format.schema)}`
      let grammar = cache.get(key)
      if (!grammar) {
        grammar =
          format.type === 'json_object'
            ? llama.getGrammarFor('json')
            : format.type === 'gbnf'
              ? llama.createGrammar({ grammar: format.grammar })
              : // The schema was checked to be an object; node-llama-cpp validates what it supports and throws otherwise.
                llama.createGrammarForJsonSchema(format.schema as Parameters<Llama['createGrammarForJsonSchema']>[0])
        cache.set(key, grammar)
        if (cache.size > GRAMMAR_CACHE_SIZE) cache.delete(cache.keys().next().value!)
      }
      try {
        return await grammar
      } catch (err) {
        cache.delete(key)
        const reason = err instanceof Error ? err.message : String(err)
        if (format.type === 'gbnf') throw new EngineError(400, 'invalid_grammar', `Grammar rejected: ${reason}`, 'grammar')
        throw new EngineError(400, 'unsupported_json_schema', `JSON schema not supported: ${reason}`, 'response_format')
      }
    },
  }
}

/** Seeds are 32-bit unsigned in llama.cpp; map any JS integer onto that range. */
export function toSamplerSeed(seed: number | undefined): number {
  if (seed === undefined) return crypto.getRandomValues(new Uint32Array(1))[0]!
  return Number(BigInt.asUintN(32, BigInt(seed)))
}

export function evaluateOptions(
  request: ChatRequest,
  model: LlamaModel,
  grammar: LlamaGrammar | undefined,
  generated: readonly Token[],
): SequenceEvaluateOptions {
  const presencePenalty = Math.max(0, request.presencePenalty ?? 0)
  const frequencyPenalty = Math.max(0, request.frequencyPenalty ?? 0)
  return {
    temperature: request.temperature ?? DEFAULT_TEMPERATURE,
    topK: request.topK ?? DEFAULT_TOP_K,
    topP: request.topP ?? 1,
    minP: request.minP ?? 0,
    seed: toSamplerSeed(request.seed),
    grammarEvaluationState: grammar ? new LlamaGrammarEvaluationState({ model, grammar }) : undefined,
    tokenBias: request.logitBias.size > 0 ? tokenBiasOf(model, request.logitBias) : undefined,
    repeatPenalty:
      presencePenalty > 0 || frequencyPenalty > 0
        ? { punishTokens: () => generated.slice(-PENALTY_WINDOW_TOKENS), maxPunishTokens: PENALTY_WINDOW_TOKENS, penalty: 1, presencePenalty, frequencyPenalty }
        : undefined,
    // EOG tokens are counted as completion tokens (llama-server counts them too), then end the reply.
    yieldEogToken: true,
  }
}

/** OpenAI's logit_bias: added to the logit; -100 bans the token (as OpenAI: "should result in a ban"). */
function tokenBiasOf(model: LlamaModel, logitBias: ReadonlyMap<number, number>): TokenBias {
  const bias = new TokenBias(model.tokenizer)
  for (const [token, value] of logitBias) bias.set(token as Token, value <= -100 ? 'never' : { logit: value })
  return bias
}
