/**
 * Prefixes every rule a GBNF grammar defines (definitions and references), so several grammars can be
 * joined into one without clashing. String literals, character classes, token references and
 * repetition counts are copied as they are.
 */
export function prefixGbnfRules(grammar: string, prefix: string): string {
  const defined = new Set([...grammar.matchAll(/^([a-zA-Z][a-zA-Z0-9-]*)\s*::=/gm)].map((m) => m[1]!))
  let out = ''
  let i = 0
  while (i < grammar.length) {
    const c = grammar[i]!
    if (c === '"' || c === '[') {
      const close = c === '"' ? '"' : ']'
      let j = i + 1
      while (j < grammar.length && grammar[j] !== close) j += grammar[j] === '\\' ? 2 : 1
      out += grammar.slice(i, j + 1)
      i = j + 1
    } else if (c === '<' || c === '{' || c === '#') {
      const close = c === '<' ? '>' : c === '{' ? '}' : '\n'
      const j = grammar.indexOf(close, i + 1)
      const end = j === -1 ? grammar.length : j + 1
      out += grammar.slice(i, end)
      i = end
    } else if (/[a-zA-Z]/.test(c)) {
      const word = /^[a-zA-Z][a-zA-Z0-9-]*/.exec(grammar.slice(i))![0]
      out += defined.has(word) ? `${prefix}${word}` : word
      i += word.length
    } else {
      out += c
      i++
    }
  }
  return out
}
