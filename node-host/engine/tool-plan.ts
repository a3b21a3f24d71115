/**
 * How a request's tools are sampled (generate.ts ToolPlan), or why this model cannot: tool calls need
 * DeepSeek's tool-call tokens in the model's template; anything else is an unsupported parameter,
 * which the gateway answers from the hosted API instead.
 */
import { EngineError, type ChatRequest } from '../types.js'
import type { ToolPlan } from './generate.js'
import type { BuiltPrompt } from './prompt.js'
import type { ToolGrammarCache } from './tool-grammar.js'
import type { ToolTokens } from './tool-tokens.js'

export async function planTools(request: ChatRequest, prompt: BuiltPrompt, tokens: ToolTokens | undefined, grammars: ToolGrammarCache): Promise<ToolPlan | undefined> {
  if (request.tools.length === 0 || request.toolChoice.type === 'none') return undefined
  if (!tokens) throw new EngineError(400, 'unsupported_parameter', "This model's chat template has no tool-call format node-host knows (DeepSeek-V3/R1's); it cannot call tools", 'tools')
  if (request.responseFormat.type !== 'text') throw new EngineError(400, 'unsupported_parameter', "node-host cannot combine 'tools' with a JSON 'response_format' or 'grammar'", 'response_format')
  const grammar = (opening: 'begin' | 'after-reasoning' | 'none') => grammars.forTools(tokens, { tools: request.tools, choice: request.toolChoice, parallel: request.parallelToolCalls, opening })
  if (request.toolChoice.type === 'auto') return { tokens, trigger: tokens.callsBegin, afterTrigger: await grammar('none') }
  // A forced call: after the reasoning, if the reply starts inside it and the model can end it.
  if (prompt.startsInReasoning && tokens.thinkEnd !== undefined) return { tokens, trigger: tokens.thinkEnd, afterTrigger: await grammar('after-reasoning') }
  return { tokens, fromStart: await grammar('begin') }
}
