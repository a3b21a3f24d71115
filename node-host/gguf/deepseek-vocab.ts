/**
 * A DeepSeek-V3/R1-shaped tiny vocabulary: their special tokens, with the ids, token types and
 * tokenizer settings real DeepSeek GGUFs carry, around the same byte-level BPE tokens as ChatML's.
 * @example buildDeepseekVocab(publishedChatTemplate('deepseek-r1'))
 */
import { bytePairTokens, TokenType, type TinyVocab } from './vocab.js'

/** Spelled as in DeepSeek-V3/R1's tokenizer.json: fullwidth ｜ (U+FF5C) and ▁ (U+2581) for spaces. */
export const DEEPSEEK_TOKENS = {
  bos: '<｜begin▁of▁sentence｜>',
  eos: '<｜end▁of▁sentence｜>',
  pad: '<｜▁pad▁｜>',
  user: '<｜User｜>',
  assistant: '<｜Assistant｜>',
  toolCallsBegin: '<｜tool▁calls▁begin｜>',
  toolCallsEnd: '<｜tool▁calls▁end｜>',
  toolCallBegin: '<｜tool▁call▁begin｜>',
  toolCallEnd: '<｜tool▁call▁end｜>',
  toolOutputsBegin: '<｜tool▁outputs▁begin｜>',
  toolOutputsEnd: '<｜tool▁outputs▁end｜>',
  toolOutputBegin: '<｜tool▁output▁begin｜>',
  toolOutputEnd: '<｜tool▁output▁end｜>',
  toolSep: '<｜tool▁sep｜>',
  thinkStart: '<think>',
  thinkEnd: '</think>',
} as const

const T = DEEPSEEK_TOKENS
// Real vocabularies start with BOS 0, EOS 1, pad 2 and end with the chat tokens in this order (a
// DeepSeek-V3 GGUF's load log: <｜User｜> 128803, <｜Assistant｜> 128804, tool tokens 128806-128814;
// R1's <think>/</think> come before them). FIM tokens and <|EOT|> are left out: no template uses them.
const LEADING = [T.bos, T.eos, T.pad] as const
const TRAILING = [
  T.thinkStart, T.thinkEnd, T.user, T.assistant,
  T.toolCallsBegin, T.toolCallsEnd, T.toolCallBegin, T.toolCallEnd,
  T.toolOutputsBegin, T.toolOutputsEnd, T.toolOutputBegin, T.toolOutputEnd, T.toolSep,
] as const

/**
 * llama.cpp's convert_hf_to_gguf.py makes an added token CONTROL when tokenizer.json marks it special
 * or it "looks special" (does_token_look_special: <｜…｜> for DeepSeek), else USER_DEFINED. So every
 * <｜…｜> token is CONTROL in real GGUFs (only parsed when asked to, hidden when detokenized), while
 * R1's <think>/</think> (special: false) are USER_DEFINED: always parsed, visible in output.
 */
function convertedTokenType(text: string): number {
  return text.startsWith('<｜') && text.endsWith('｜>') ? TokenType.CONTROL : TokenType.USER_DEFINED
}

export function buildDeepseekVocab(chatTemplate: string, mergeCount = 400): TinyVocab {
  const bpe = bytePairTokens(mergeCount)
  const tokens = [...LEADING, ...bpe.tokens, ...TRAILING]
  const tokenTypes = [...LEADING.map(convertedTokenType), ...bpe.tokens.map(() => TokenType.NORMAL), ...TRAILING.map(convertedTokenType)]
  const bosId = tokens.indexOf(T.bos)
  const eosId = tokens.indexOf(T.eos)
  return {
    tokens,
    tokenTypes,
    merges: bpe.merges,
    bosId,
    eosId,
    // As DeepSeek-V3/R1 GGUFs have them: llama.cpp's deepseek-v3 pre-tokenizer, pad = EOS
    // (tokenizer_config.json's pad_token), BOS prepended (add_bos_token true).
    settings: { pre: 'deepseek-v3', paddingId: eosId, addBosToken: true, chatTemplate },
  }
}
