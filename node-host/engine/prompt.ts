/**
 * Builds the prompt tokens for a chat with the model's chat wrapper (resolved once per model) and the
 * tokens/strings that end a reply. Tokenizing the wrapper's LlamaText keeps special tokens exact, so
 * prompt_tokens is exactly what is evaluated.
 */
import type { ChatHistoryItem, ChatWrapper, LlamaModel, Token } from 'node-llama-cpp'
import type { ChatMessage } from '../types.js'

export interface BuiltPrompt {
  tokens: Token[]
  /** Single tokens that end the reply (EOS, `<|im_end|>`), in addition to the model's EOG tokens. */
  stopTokens: Set<Token>
  /** Multi-token stop texts from the template. */
  stopTexts: string[]
  /** The template opened a think block (`...<think>\n`), so output starts inside it. */
  startsInReasoning: boolean
}

export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === 'system' || m.role === 'developer') return { type: 'system', text: m.content }
    if (m.role === 'assistant') return { type: 'model', response: [m.content] }
    return { type: 'user', text: m.content }
  })
  history.push({ type: 'model', response: [] })
  return history
}

export function buildPrompt(model: LlamaModel, wrapper: ChatWrapper, messages: readonly ChatMessage[]): BuiltPrompt {
  const state = wrapper.generateContextState({ chatHistory: toChatHistory(messages) })
  const tokens = state.contextText.tokenize(model.tokenizer)
  const stopTokens = new Set<Token>()
  const stopTexts: string[] = []
  for (const trigger of state.stopGenerationTriggers) {
    const triggerTokens = trigger.tokenize(model.tokenizer)
    if (triggerTokens.length === 1) stopTokens.add(triggerTokens[0]!)
    else {
      const text = model.detokenize(triggerTokens, false)
      if (text) stopTexts.push(text)
    }
  }
  const tail = model.detokenize(tokens.slice(-4), false)
  return { tokens, stopTokens, stopTexts, startsInReasoning: /<think>\s*$/.test(tail) }
}
