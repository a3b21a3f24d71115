/**
 * The grammar a tool call is sampled under, in DeepSeek's format (tool-tokens.ts): special tokens by id
 * (`<[id]>`), each function's name, and its arguments constrained by its JSON schema (node-llama-cpp's
 * schema-to-GBNF), so arguments always parse and match. Cached per tools + choice.
 */
import type { Llama, LlamaGrammar } from 'node-llama-cpp'
import { EngineError, type ToolChoice, type ToolSpec } from '../types.js'
import { prefixGbnfRules } from './gbnf-rename.js'
import type { ToolTokens } from './tool-tokens.js'

const CACHE_SIZE = 32

export interface ToolGrammarRequest {
  tools: readonly ToolSpec[]
  choice: ToolChoice
  parallel: boolean
  /**
   * begin: the reply is the calls; after-reasoning: up to two newlines may come first (after `</think>`);
   * none: the calls-begin token was already sampled (auto mode's trigger), the grammar starts after it.
   */
  opening: 'begin' | 'after-reasoning' | 'none'
}

export interface ToolGrammarCache {
  forTools(tokens: ToolTokens, request: ToolGrammarRequest): Promise<LlamaGrammar>
}

export function createToolGrammarCache(llama: Llama): ToolGrammarCache {
  const cache = new Map<string, Promise<LlamaGrammar>>()
  return {
    forTools(tokens, request) {
      const key = JSON.stringify([request.tools, request.choice, request.parallel, request.opening])
      let grammar = cache.get(key)
      if (!grammar) {
        grammar = buildToolGrammar(llama, tokens, request)
        cache.set(key, grammar)
        grammar.catch(() => cache.delete(key))
        if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!)
      }
      return grammar
    },
  }
}

async function buildToolGrammar(llama: Llama, t: ToolTokens, request: ToolGrammarRequest): Promise<LlamaGrammar> {
  const callable = request.choice.type === 'function' ? request.tools.filter((tool) => tool.name === (request.choice as { name: string }).name) : request.tools
  const rules: string[] = []
  const alternatives: string[] = []
  for (const [i, tool] of callable.entries()) {
    const prefix = `f${i}-`
    rules.push(prefixGbnfRules(await argumentsGrammar(llama, tool), prefix))
    alternatives.push(`${prefix}call`)
    rules.push(`${prefix}call ::= ${gbnfString(tool.name)} "\\n\`\`\`json\\n" ${prefix}root "\\n\`\`\`" <[${t.callEnd}]>`)
  }
  const begin = { begin: `<[${t.callsBegin}]> `, 'after-reasoning': `"\\n"{0,2} <[${t.callsBegin}]> `, none: '' }[request.opening]
  const calls = request.parallel ? 'call ("\\n" call)*' : 'call'
  return llama.createGrammar({
    grammar: [`root ::= ${begin}${calls} <[${t.callsEnd}]>`, `call ::= <[${t.callBegin}]> "function" <[${t.sep}]> (${alternatives.join(' | ')})`, ...rules].join('\n'),
  })
}

/**
 * node-llama-cpp's GBNF for the schema, without the trailing newlines its root allows (the fence
 * follows), integers without exponents, and exponents of at most two digits: its rules allow
 * `1e400`, which JSON.parse reads as Infinity, and `3e9` for an integer; integers keep to 15 digits,
 * inside JavaScript's safe range (node-llama-cpp allows 16). String characters exclude
 * `｜` (U+FF5C, still writable as \uff5c): llama.cpp matches a special token's text against character
 * rules, and every DeepSeek special token's text (`<｜tool▁call▁begin｜>`…) contains it, so without
 * this a string could swallow a call's closing tokens.
 */
async function argumentsGrammar(llama: Llama, tool: ToolSpec): Promise<string> {
  let schemaGrammar: LlamaGrammar
  try {
    schemaGrammar = await llama.createGrammarForJsonSchema(tool.parameters as Parameters<Llama['createGrammarForJsonSchema']>[0])
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new EngineError(400, 'unsupported_parameter', `The parameters schema of function '${tool.name}' uses what node-host cannot enforce: ${reason}`, 'tools')
  }
  return schemaGrammar.grammar
    .replace(/^(root ::= .*?) "\\n\\n\\n\\n" \[\\n\]\*$/m, '$1')
    .replace(/^(integer-number-rule ::= .*?) \(\[eE\].*$/m, (line, head: string) => head.replace('[0-9]{0,15}', '[0-9]{0,14}'))
    .replaceAll('[eE] [-+]? ("0" | [1-9] [0-9]{0,15})', '[eE] [-+]? [0-9]{1,2}')
    .replace(/^(string-char-rule ::= \[\^[^\]]*)\]/m, '$1｜]')
}

function gbnfString(text: string): string {
  return JSON.stringify(text)
}
