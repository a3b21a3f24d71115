/**
 * Turns sampled tokens into text one at a time. A byte-level token can end inside a multi-byte UTF-8
 * character, which detokenizes to U+FFFD; such tokens wait (up to 4, a full character) for the rest.
 * Special tokens render as nothing, except user-defined ones such as R1's `<think>`.
 */
import type { LlamaModel, Token } from 'node-llama-cpp'

const MAX_PENDING_TOKENS = 4
const CONTEXT_TOKENS = 8

export interface TokenDecoder {
  push(token: Token): string
  flush(): string
}

export function createTokenDecoder(model: LlamaModel, precedingTokens: readonly Token[]): TokenDecoder {
  let pending: Token[] = []
  let recent = precedingTokens.slice(-CONTEXT_TOKENS)
  // Detokenizing is a native call per token on the decode path; each pending run is detokenized once.
  const commit = (text: string) => {
    recent = [...recent, ...pending].slice(-CONTEXT_TOKENS)
    pending = []
    return text
  }
  return {
    push(token) {
      pending.push(token)
      const text = model.detokenize(pending, false, recent)
      if (text.endsWith('\uFFFD') && pending.length < MAX_PENDING_TOKENS) return ''
      return commit(text)
    },
    flush: () => (pending.length > 0 ? commit(model.detokenize(pending, false, recent)) : ''),
  }
}
