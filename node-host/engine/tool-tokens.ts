/**
 * DeepSeek-V3/R1's tool-call tokens, as their chat templates write a call into the history:
 * <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>
 * (further calls after "\n"), then <｜tool▁calls▁end｜>. node-host generates calls in the same form, so
 * a call it made reads back exactly as the template renders it on the next turn.
 */
import type { LlamaModel, Token } from 'node-llama-cpp'

export const DEEPSEEK_TOOL_TEXT = {
  callsBegin: '<｜tool▁calls▁begin｜>',
  callsEnd: '<｜tool▁calls▁end｜>',
  callBegin: '<｜tool▁call▁begin｜>',
  callEnd: '<｜tool▁call▁end｜>',
  sep: '<｜tool▁sep｜>',
} as const

export type ToolTokens = Record<keyof typeof DEEPSEEK_TOOL_TEXT, Token> & {
  /** `</think>` where the vocabulary has it as one token (R1): ends reasoning before a forced call. */
  thinkEnd: Token | undefined
}

/** The model's ids for those tokens, if its template uses them and each is one token in its vocabulary. */
export function findToolTokens(model: LlamaModel, templateSource: string | undefined): ToolTokens | undefined {
  if (!templateSource?.includes(DEEPSEEK_TOOL_TEXT.callsBegin)) return undefined
  const one = (text: string): Token | undefined => {
    const tokens = model.tokenize(text, true)
    return tokens.length === 1 ? tokens[0] : undefined
  }
  const found: Partial<Record<keyof typeof DEEPSEEK_TOOL_TEXT, Token>> = {}
  for (const [key, text] of Object.entries(DEEPSEEK_TOOL_TEXT) as [keyof typeof DEEPSEEK_TOOL_TEXT, string][]) {
    const token = one(text)
    if (token === undefined) return undefined
    found[key] = token
  }
  return { ...(found as Record<keyof typeof DEEPSEEK_TOOL_TEXT, Token>), thinkEnd: one('</think>') }
}
