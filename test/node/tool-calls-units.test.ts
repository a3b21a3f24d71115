/** The pure parts of local tool calling: joining GBNF grammars, and reading calls back out of tokens. */
import type { Token } from 'node-llama-cpp'
import { describe, expect, it } from 'vitest'
import { prefixGbnfRules } from '../../node-host/engine/gbnf-rename.js'
import { createToolCallParser } from '../../node-host/engine/tool-call-parser.js'
import type { ToolTokens } from '../../node-host/engine/tool-tokens.js'

describe('prefixGbnfRules', () => {
  it('renames definitions and references, never text inside strings, classes, tokens or counts', () => {
    const grammar = ['root ::= "{" ws "\\"root\\"" ":" value "}" <[12]>', 'value ::= [a-z]{1,4} | "ws" ws', 'ws ::= [ \\t\\]]? # ws comment'].join('\n')
    expect(prefixGbnfRules(grammar, 'f0-')).toBe(
      ['f0-root ::= "{" f0-ws "\\"root\\"" ":" f0-value "}" <[12]>', 'f0-value ::= [a-z]{1,4} | "ws" f0-ws', 'f0-ws ::= [ \\t\\]]? # ws comment'].join('\n'),
    )
  })
})

describe('tool-call parser (DeepSeek token format)', () => {
  const t: ToolTokens = { callsBegin: 1 as Token, callsEnd: 2 as Token, callBegin: 3 as Token, callEnd: 4 as Token, sep: 5 as Token, thinkEnd: undefined }
  const text = (s: string): [Token, string] => [100 as Token, s]
  const feed = (items: [Token, string][]) => {
    let n = 0
    const parser = createToolCallParser(t, () => `call_${n++}`)
    const events = items.flatMap(([token, piece]) => parser.push(token, piece))
    return { events, parser }
  }

  it('streams each call: name and id once known, then arguments without the closing fence', () => {
    const { events, parser } = feed([
      [t.callsBegin, ''], [t.callBegin, ''], text('func'), text('tion'), [t.sep, ''], text('get_'), text('weather\n``'), text('`json\n{"ci'), text('ty": "P'), text('aris"}\n'), text('``'), text('`'), [t.callEnd, ''],
      text('\n'), [t.callBegin, ''], text('function'), [t.sep, ''], text('noop\n```json\n{}\n```'), [t.callEnd, ''], [t.callsEnd, ''],
    ])
    expect(events.filter((e) => e.type === 'tool_call')).toEqual([
      { type: 'tool_call', index: 0, id: 'call_0', name: 'get_weather' },
      { type: 'tool_call', index: 1, id: 'call_1', name: 'noop' },
    ])
    const args = (i: number) => events.flatMap((e) => (e.type === 'tool_arguments' && e.index === i ? [e.text] : [])).join('')
    expect(args(0)).toBe('{"city": "Paris"}')
    expect(args(1)).toBe('{}')
    // The fence's backticks were never sent as arguments, even while they might have been JSON.
    expect(events.some((e) => e.type === 'tool_arguments' && e.text.includes('`'))).toBe(false)
    expect(parser.completed).toBe(2)
    expect(parser.done).toBe(true)
  })

  it('keeps a backtick inside a JSON string as part of the arguments', () => {
    const { events } = feed([[t.callsBegin, ''], [t.callBegin, ''], text('function'), [t.sep, ''], text('f\n```json\n{"q": "a `b`"}'), text('\n```'), [t.callEnd, '']])
    expect(events.flatMap((e) => (e.type === 'tool_arguments' ? [e.text] : [])).join('')).toBe('{"q": "a `b`"}')
  })
})
