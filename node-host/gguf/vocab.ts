import { BPE_TRAINING_CORPUS } from './corpus.js'
import { kv, type GgufMetadataEntry } from './metadata.js'

/** llama_token_type values (include/llama.h). */
export const TokenType = { NORMAL: 1, CONTROL: 3, USER_DEFINED: 4 } as const

export const SPECIAL_TOKENS = {
  endOfText: '<|endoftext|>',
  imStart: '<|im_start|>',
  imEnd: '<|im_end|>',
  thinkStart: '<think>',
  thinkEnd: '</think>',
} as const

// ChatML; optional reasoning is left to the model (it may emit <think>...</think> itself).
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

/** The tokenizer.* values besides the token list that differ between vocabulary flavours. */
export interface TokenizerSettings {
  /** tokenizer.ggml.pre: which of llama.cpp's pre-tokenizers splits text before BPE. */
  pre: string
  paddingId: number
  addBosToken: boolean
  chatTemplate: string
}

export interface TinyVocab {
  tokens: string[]
  tokenTypes: number[]
  merges: string[]
  bosId: number
  eosId: number
  /** Absent: the ChatML flavour's (qwen2 pre-tokenizer, no BOS added, CHATML_TEMPLATE). */
  settings?: TokenizerSettings
}

/** GPT-2 byte-to-unicode table: every byte gets a printable, non-whitespace code point. */
export function byteToUnicodeTable(): string[] {
  const printable: number[] = []
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b)
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b)
  for (let b = 0xae; b <= 0xff; b++) printable.push(b)
  const table: string[] = new Array(256)
  let extra = 0
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++)
  }
  return table
}

// Rough GPT-style pre-tokenization: words keep their leading space, digits stand alone.
const PRE_TOKEN_PATTERN = / ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+|\s+/gu

/** Learn `mergeCount` BPE merges over the corpus (deterministic: ties broken by pair text). */
function learnMerges(corpus: string, byteTable: string[], mergeCount: number): string[][] {
  const wordCounts = new Map<string, number>()
  for (const match of corpus.matchAll(PRE_TOKEN_PATTERN)) {
    const symbols = [...Buffer.from(match[0], 'utf8')].map((byte) => byteTable[byte]!)
    const key = symbols.join('\u0000')
    wordCounts.set(key, (wordCounts.get(key) ?? 0) + 1)
  }
  const words = [...wordCounts].map(([key, count]) => ({ symbols: key.split('\u0000'), count }))
  const merges: string[][] = []
  while (merges.length < mergeCount) {
    const pairCounts = new Map<string, number>()
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const pair = `${symbols[i]} ${symbols[i + 1]}`
        pairCounts.set(pair, (pairCounts.get(pair) ?? 0) + count)
      }
    }
    let best: string | undefined
    let bestCount = 0
    for (const [pair, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== undefined && pair < best)) {
        best = pair
        bestCount = count
      }
    }
    if (best === undefined) break
    const [left, right] = best.split(' ') as [string, string]
    merges.push([left, right])
    for (const word of words) {
      const merged: string[] = []
      for (let i = 0; i < word.symbols.length; i++) {
        if (word.symbols[i] === left && word.symbols[i + 1] === right) {
          merged.push(left + right)
          i++
        } else {
          merged.push(word.symbols[i]!)
        }
      }
      word.symbols = merged
    }
  }
  return merges
}

/** The NORMAL tokens every flavour shares: 256 byte tokens, then each learned merge's result. */
export function bytePairTokens(mergeCount = 400): { tokens: string[]; merges: string[] } {
  const byteTable = byteToUnicodeTable()
  const tokens = [...byteTable]
  const merges = learnMerges(BPE_TRAINING_CORPUS, byteTable, mergeCount)
  const known = new Set(tokens)
  for (const [left, right] of merges) {
    const merged = left! + right!
    if (known.has(merged)) continue
    known.add(merged)
    tokens.push(merged)
  }
  return { tokens, merges: merges.map(([left, right]) => `${left} ${right}`) }
}

/** Byte-level BPE vocabulary with ChatML specials after the learned tokens. */
export function buildTinyVocab(mergeCount = 400): TinyVocab {
  const { tokens, merges } = bytePairTokens(mergeCount)
  const tokenTypes: number[] = tokens.map(() => TokenType.NORMAL)
  const addSpecial = (text: string, type: number): number => {
    tokens.push(text)
    tokenTypes.push(type)
    return tokens.length - 1
  }
  const bosId = addSpecial(SPECIAL_TOKENS.endOfText, TokenType.CONTROL)
  addSpecial(SPECIAL_TOKENS.imStart, TokenType.CONTROL)
  const eosId = addSpecial(SPECIAL_TOKENS.imEnd, TokenType.CONTROL)
  // Reasoning tags are user-defined (like Qwen3/DeepSeek-R1): they stay visible when detokenized.
  addSpecial(SPECIAL_TOKENS.thinkStart, TokenType.USER_DEFINED)
  addSpecial(SPECIAL_TOKENS.thinkEnd, TokenType.USER_DEFINED)
  return { tokens, tokenTypes, merges, bosId, eosId }
}

/** tokenizer.* metadata for a TinyVocab (gpt2-style BPE). */
export function tokenizerMetadata(vocab: TinyVocab): GgufMetadataEntry[] {
  const settings = vocab.settings ?? chatmlSettings(vocab)
  return [
    ['tokenizer.ggml.model', kv.str('gpt2')],
    ['tokenizer.ggml.pre', kv.str(settings.pre)],
    ['tokenizer.ggml.tokens', kv.strings(vocab.tokens)],
    ['tokenizer.ggml.token_type', kv.i32s(vocab.tokenTypes)],
    ['tokenizer.ggml.merges', kv.strings(vocab.merges)],
    ['tokenizer.ggml.bos_token_id', kv.u32(vocab.bosId)],
    ['tokenizer.ggml.eos_token_id', kv.u32(vocab.eosId)],
    ['tokenizer.ggml.padding_token_id', kv.u32(settings.paddingId)],
    ['tokenizer.ggml.add_bos_token', kv.bool(settings.addBosToken)],
    ['tokenizer.chat_template', kv.str(settings.chatTemplate)],
  ]
}

function chatmlSettings(vocab: TinyVocab): TokenizerSettings {
  // qwen2 pre-tokenization keeps clean_spaces off, so detokenize(tokenize(s)) == s.
  return { pre: 'qwen2', paddingId: vocab.bosId, addBosToken: false, chatTemplate: CHATML_TEMPLATE }
}
