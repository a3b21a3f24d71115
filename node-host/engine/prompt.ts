/**
 * Builds the prompt tokens for a chat. A model whose GGUF carries a chat template gets exactly what
 * that template renders (chat-template.ts), tokenized with its special tokens; one without gets
 * node-llama-cpp's chat wrapper. Also says how the reply ends and whether it starts inside reasoning.
 */
import type { ChatHistoryItem, ChatWrapper, LlamaModel, Token } from 'node-llama-cpp'
import type { ChatMessage, ChatRequest } from '../types.js'
import { compileChatTemplate, type ChatTemplate, type TemplateMessage } from './chat-template.js'
import { findToolTokens, type ToolTokens } from './tool-tokens.js'
import { toolsSystemText } from './tool-prompt.js'

export interface BuiltPrompt {
  tokens: Token[]
  /** Single tokens that end the reply (EOS, `<|im_end|>`), in addition to the model's EOG tokens. */
  stopTokens: Set<Token>
  /** Multi-token stop texts from the template. */
  stopTexts: string[]
  /** The prompt ends in an open think block (`...<think>\n`), so output starts inside it. */
  startsInReasoning: boolean
}

export interface PromptBuilder {
  /** The model's tool-call tokens, when its template has DeepSeek's tool-call format. */
  readonly toolTokens: ToolTokens | undefined
  build(request: Pick<ChatRequest, 'messages' | 'tools' | 'toolChoice' | 'thinking'>): BuiltPrompt
}

const OPEN_THINK = /<think>\s*$/

export function createPromptBuilder(model: LlamaModel, wrapper: ChatWrapper): PromptBuilder {
  const source = model.fileInfo.metadata.tokenizer?.chat_template
  if (typeof source !== 'string' || source.length === 0) return { toolTokens: undefined, build: (r) => buildWithWrapper(model, wrapper, r.messages) }
  const template = compileChatTemplate(source)
  const toolTokens = findToolTokens(model, source)
  return { toolTokens, build: (r) => buildWithTemplate(model, template, r) }
}

function buildWithTemplate(model: LlamaModel, template: ChatTemplate, request: Pick<ChatRequest, 'messages' | 'tools' | 'toolChoice' | 'thinking'>): BuiltPrompt {
  const offerTools = request.tools.length > 0 && request.toolChoice.type !== 'none'
  let messages = request.messages.map(templateMessage)
  if (offerTools && !template.rendersTools) messages = withSystemText(messages, toolsSystemText(request.tools, request.toolChoice))
  let text = template.render(messages, {
    bosToken: model.tokens.bosString ?? '',
    eosToken: model.tokens.eosString ?? '',
    addGenerationPrompt: true,
    ...(offerTools && template.rendersTools ? { tools: request.tools.map((t) => ({ type: 'function' as const, function: t })) } : {}),
    thinking: request.thinking,
  })
  // Templates that always open a think block (R1's) have no switch: close it at once, as for a
  // reply whose reasoning is empty, so the model answers directly.
  if (request.thinking === false && OPEN_THINK.test(text)) text = `${text.replace(/\s*$/, '\n')}\n</think>\n\n`
  let tokens = model.tokenize(text, true)
  const bos = model.tokens.bos
  if (bos !== null && model.tokens.shouldPrependBosToken && tokens[0] !== bos) tokens = [bos, ...tokens]
  const eos = model.tokens.eos
  return { tokens, stopTokens: new Set(eos === null ? [] : [eos]), stopTexts: [], startsInReasoning: OPEN_THINK.test(text) }
}

/** The message as chat templates read it: OpenAI's field names, content null beside tool calls. */
function templateMessage(m: ChatMessage): TemplateMessage {
  const role = m.role === 'developer' ? 'system' : m.role
  const out: TemplateMessage = { role, content: m.toolCalls && m.content === '' ? null : m.content }
  if (m.toolCalls) out.tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }))
  if (m.toolCallId !== undefined) out.tool_call_id = m.toolCallId
  if (m.reasoningContent !== undefined) out.reasoning_content = m.reasoningContent
  return out
}

function withSystemText(messages: TemplateMessage[], text: string): TemplateMessage[] {
  const first = messages[0]
  if (first?.role === 'system') return [{ ...first, content: `${first.content ?? ''}\n\n${text}` }, ...messages.slice(1)]
  return [{ role: 'system', content: text }, ...messages]
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

function buildWithWrapper(model: LlamaModel, wrapper: ChatWrapper, messages: readonly ChatMessage[]): BuiltPrompt {
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
