import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { physicalCoreCount, resolveThreadCount, defaultThreadCount } from '../../node-host/engine/threads.js'
import { createUsageSniffer } from '../../node-host/engine/usage-sniffer.js'
import { createChoiceAssembler } from '../../node-host/openai-format.js'
import { createSlotQueue } from '../../node-host/queue.js'
import { createReasoningSplitter, partialTagSuffix } from '../../node-host/reasoning-split.js'
import { createStopMatcher } from '../../node-host/stop-matcher.js'
import { createThroughputWindow } from '../../node-host/throughput.js'
import { EngineError } from '../../node-host/types.js'
import { parseChatRequest } from '../../node-host/validate.js'

/** Feeds `text` to a fresh splitter in the given pieces and joins what comes out. */
function split(pieces: string[], startInReasoning = false) {
  const s = createReasoningSplitter({ startInReasoning })
  let reasoning = ''
  let content = ''
  for (const p of pieces) {
    const d = s.push(p)
    reasoning += d.reasoning
    content += d.content
  }
  const d = s.flush()
  return { reasoning: reasoning + d.reasoning, content: content + d.content }
}

/** Cuts `text` at the given positions. */
function cut(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
  const out: string[] = []
  let prev = 0
  for (const c of at) {
    out.push(text.slice(prev, c))
    prev = c
  }
  out.push(text.slice(prev))
  return out
}

describe('reasoning splitter', () => {
  it('splits R1 output into reasoning and content, dropping tags and the whitespace around them', () => {
    expect(split(['<think>\nLet me see.\n</think>\n\nThe answer is 4.'])).toEqual({ reasoning: 'Let me see.\n', content: 'The answer is 4.' })
  })

  it('gives the same split however the text is cut into tokens', () => {
    const text = '  <think>\nstep 1 < 2 </thin then </think>\n\nanswer <think>not a tag</think>'
    const whole = split([text])
    expect(whole).toEqual({ reasoning: 'step 1 < 2 </thin then ', content: 'answer <think>not a tag</think>' })
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
      expect(split(cut(text, cuts))).toEqual(whole)
    }))
  })

  it('treats output without a leading think block as content, even if it mentions tags later', () => {
    expect(split(['Hello', ' <think>'])).toEqual({ reasoning: '', content: 'Hello <think>' })
    expect(split(['<thi', 'nk'])).toEqual({ reasoning: '', content: '<think' })
  })

  it('starts inside reasoning when the template opened the think block', () => {
    expect(split(['\nhmm', '</th', 'ink>ok'], true)).toEqual({ reasoning: 'hmm', content: 'ok' })
  })

  it('keeps an unfinished think block as reasoning at the end', () => {
    expect(split(['<think>abc</th'])).toEqual({ reasoning: 'abc</th', content: '' })
  })

  it('partialTagSuffix finds the longest held-back prefix', () => {
    expect(partialTagSuffix('abc</th', '</think>')).toBe(4)
    expect(partialTagSuffix('abc', '</think>')).toBe(0)
  })

  it('counts the tokens spent thinking, tags included', () => {
    const a = createChoiceAssembler(false)
    for (const t of ['<think>', 'a', 'b', '</think>', 'c', 'd']) a.push(t, 1)
    expect(a.reasoningTokens).toBe(4)
  })
})

describe('stop matcher', () => {
  const run = (stops: string[], pieces: string[]) => {
    const m = createStopMatcher(stops)
    let out = ''
    for (const p of pieces) {
      const r = m.push(p)
      out += r.text
      if (r.stopped) return { out, stopped: true }
    }
    return { out: out + m.flush(), stopped: false }
  }

  it('stops at the first stop string, split across pieces, without sending any of it', () => {
    const m = createStopMatcher(['END'])
    expect(m.push('abcE')).toEqual({ text: 'abc', stopped: false })
    expect(m.push('N')).toEqual({ text: '', stopped: false })
    expect(m.push('Dxyz')).toEqual({ text: '', stopped: true })
  })

  it('releases held text that turned out not to be a stop', () => {
    expect(run(['END'], ['abE', 'Nx', 'y'])).toEqual({ out: 'abENxy', stopped: false })
    expect(run(['END'], ['abEN'])).toEqual({ out: 'abEN', stopped: false })
  })

  it('picks the earliest of several stops', () => {
    expect(run(['cd', 'b'], ['abcd'])).toEqual({ out: 'a', stopped: true })
  })

  it('passes text through when there are no stops', () => {
    expect(run([], ['a', 'b'])).toEqual({ out: 'ab', stopped: false })
  })
})

describe('slot queue', () => {
  it('admits up to the slots, queues FIFO up to maxQueue, refuses beyond', async () => {
    const q = createSlotQueue({ slots: 1, maxQueue: 2 })
    const a = await q.enter()!
    const order: string[] = []
    const b = q.enter()!.then((l) => (order.push('b'), l))
    const c = q.enter()!.then((l) => (order.push('c'), l))
    expect(q.enter()).toBeUndefined()
    expect([q.slotsBusy, q.queueDepth]).toEqual([1, 2])
    a.release()
    a.release() // idempotent: must not free a second slot
    ;(await b).release()
    ;(await c).release()
    expect(order).toEqual(['b', 'c'])
    expect([q.slotsBusy, q.queueDepth]).toEqual([0, 0])
  })

  it('gives up the place in line when the waiter aborts', async () => {
    const q = createSlotQueue({ slots: 1, maxQueue: 1 })
    const a = await q.enter()!
    const ac = new AbortController()
    const waiting = q.enter(ac.signal)!
    ac.abort(new Error('gone'))
    await expect(waiting).rejects.toThrow('gone')
    expect(q.queueDepth).toBe(0)
    a.release()
    expect(q.slotsBusy).toBe(0)
  })
})

describe('throughput window', () => {
  it('averages tokens over time across recent requests and forgets old ones', () => {
    const w = createThroughputWindow(2)
    expect(w.decodeTokensPerSecond).toBeUndefined()
    w.record({ prefillTokens: 100, prefillMs: 1000, decodeTokens: 10, decodeMs: 1000, durationMs: 2000 })
    w.record({ prefillTokens: 300, prefillMs: 1000, decodeTokens: 30, decodeMs: 1000, durationMs: 4000 })
    expect(w.prefillTokensPerSecond).toBe(200)
    expect(w.decodeTokensPerSecond).toBe(20)
    expect(w.meanRequestSeconds).toBe(3)
    w.record({ prefillTokens: 0, prefillMs: 0, decodeTokens: 50, decodeMs: 1000, durationMs: 1000 })
    expect(w.decodeTokensPerSecond).toBe(40)
  })
})

describe('threads', () => {
  it('counts physical cores from cpuinfo, never more than the logical CPUs', () => {
    const cpuinfo = ['physical id\t: 0\ncore id\t\t: 0', 'physical id\t: 0\ncore id\t\t: 0', 'physical id\t: 0\ncore id\t\t: 1'].join('\n\n')
    expect(physicalCoreCount(cpuinfo)).toBe(Math.min(2, physicalCoreCount(undefined)))
  })

  it('defaults to the cores minus one and caps requests at the cores', () => {
    expect(defaultThreadCount(2)).toBe(1)
    expect(defaultThreadCount(1)).toBe(1)
    expect(defaultThreadCount(64)).toBe(63)
    expect(resolveThreadCount(8, 2)).toEqual({ threads: 2, capped: true })
    expect(resolveThreadCount(1, 2)).toEqual({ threads: 1, capped: false })
  })
})

describe('request validation', () => {
  const parse = (body: unknown) => parseChatRequest(new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)))
  const errorOf = (body: unknown) => {
    try {
      parse(body)
    } catch (err) {
      return err instanceof EngineError ? { status: err.status, code: err.code, param: err.param } : { status: 0 }
    }
    return undefined
  }

  it('refuses malformed JSON, missing or empty messages and wrong types with 400', () => {
    expect(errorOf('{nope')).toMatchObject({ status: 400 })
    expect(errorOf([])).toMatchObject({ status: 400 })
    expect(errorOf({})).toMatchObject({ status: 400, param: 'messages' })
    expect(errorOf({ messages: [] })).toMatchObject({ status: 400, param: 'messages' })
    expect(errorOf({ messages: [{ role: 'wizard', content: 'x' }] })).toMatchObject({ status: 400, param: 'messages[0].role' })
    expect(errorOf({ messages: [{ role: 'user', content: 5 }] })).toMatchObject({ status: 400 })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], temperature: '1' })).toMatchObject({ status: 400, param: 'temperature' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], max_tokens: 0 })).toMatchObject({ status: 400, param: 'max_tokens' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], stop: [1] })).toMatchObject({ status: 400, param: 'stop' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], n: 0 })).toMatchObject({ status: 400, param: 'n' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], n: 17 })).toMatchObject({ status: 400, param: 'n' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'has space' } }] })).toMatchObject({ status: 400, param: 'tools' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } })).toMatchObject({ status: 400, param: 'tool_choice' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], tool_choice: 'required' })).toMatchObject({ status: 400, param: 'tool_choice' })
    expect(errorOf({ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: {} } }] }] })).toMatchObject({ status: 400 })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], thinking: { type: 'sometimes' } })).toMatchObject({ status: 400, param: 'thinking' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 3 })).toMatchObject({ status: 400, param: 'reasoning_effort' })
    expect(parse({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'none' }).thinking).toBe(false)
    expect(parse({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'minimal' }).thinking).toBe(true)
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], logit_bias: { abc: 1 } })).toMatchObject({ status: 400, param: 'logit_bias' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], logit_bias: { 5: 101 } })).toMatchObject({ status: 400, param: 'logit_bias' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], logprobs: true })).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'logprobs' })
    expect(errorOf({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema' } })).toMatchObject({ status: 400 })
  })

  it('reads sampling fields, text parts, stop and response formats', () => {
    const r = parse({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }],
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 9,
      max_tokens: 100,
      temperature: 0.5,
      top_p: 0.9,
      top_k: 20,
      seed: 42,
      stop: 'x',
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object' } } },
    })
    expect(r).toMatchObject({ stream: true, includeUsage: true, maxTokens: 9, temperature: 0.5, topP: 0.9, topK: 20, seed: 42, stop: ['x'] })
    expect(r.messages).toEqual([{ role: 'user', content: 'ab' }])
    expect(r.responseFormat).toEqual({ type: 'json_schema', schema: { type: 'object' } })
  })
})

describe('usage sniffer', () => {
  it('finds usage and timings in an SSE stream cut anywhere', () => {
    const text =
      'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n' +
      'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":3}},"timings":{"prompt_n":2,"prompt_ms":10,"predicted_n":2,"predicted_ms":20}}\n\ndata: [DONE]\n\n'
    const s = createUsageSniffer('text/event-stream')
    const bytes = new TextEncoder().encode(text)
    for (let i = 0; i < bytes.length; i += 7) s.push(bytes.slice(i, i + 7))
    expect(s.result()).toMatchObject({ usage: { promptTokens: 5, completionTokens: 2, cachedTokens: 3 }, timings: { prompt_n: 2, predicted_ms: 20 } })
  })

  it('reads a JSON body at the end', () => {
    const s = createUsageSniffer('application/json')
    s.push(new TextEncoder().encode('{"usage":{"prompt_tokens":1,"completion_tokens":1}}'))
    expect(s.result()?.usage).toEqual({ promptTokens: 1, completionTokens: 1, cachedTokens: 0 })
  })
})
