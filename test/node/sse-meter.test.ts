import { describe, expect, it } from 'vitest'
import { estimateUsage } from '../../src/metering/estimate.js'
import { SseMeter } from '../../src/metering/sse-meter.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const chunk = (delta: Record<string, unknown>) => `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta }] })}\n\n`
const usageChunk = `data: ${JSON.stringify({ model: 'm', choices: [], usage: { prompt_tokens: 9, completion_tokens: 3, prompt_cache_hit_tokens: 4, prompt_cache_miss_tokens: 5, completion_tokens_details: { reasoning_tokens: 1 } } })}\n\n`
const stream = [': keep-alive\n\n', chunk({ role: 'assistant', content: '' }), chunk({ reasoning_content: 'hm' }), chunk({ content: 'Hi' }), chunk({ content: '!' }), usageChunk, 'data: [DONE]\n\n'].join('')

function feed(meter: SseMeter, text: string, pieceBytes: number): string {
  const bytes = enc.encode(text)
  let out = ''
  for (let i = 0; i < bytes.length; i += pieceBytes) out += dec.decode(meter.push(bytes.slice(i, i + pieceBytes)), { stream: true })
  return out + dec.decode(meter.flush())
}

describe('SseMeter', () => {
  it.each([1, 3, 7, 64, 10_000])('gives the same result whatever the chunking (%i-byte pieces)', (piece) => {
    const meter = new SseMeter({ clientWantsUsage: false, now: () => 42 })
    const out = feed(meter, stream, piece)
    expect(out).toBe(stream.replace(usageChunk, ''))
    expect(meter.usage).toEqual({ promptTokens: 9, cacheHitTokens: 4, cacheMissTokens: 5, completionTokens: 3, reasoningTokens: 1 })
    expect([meter.contentDeltas, meter.reasoningDeltas, meter.contentChars, meter.reasoningChars]).toEqual([2, 1, 3, 2])
    expect(meter.sawDone).toBe(true)
    expect(meter.firstTokenAt).toBe(42)
  })

  it('keeps the usage chunk when the client asked for it, and handles CRLF framing', () => {
    const meter = new SseMeter({ clientWantsUsage: true, now: () => 0 })
    const crlf = stream.replace(/\n/g, '\r\n')
    expect(feed(meter, crlf, 5)).toBe(crlf)
    expect(meter.usage?.promptTokens).toBe(9)
  })

  it('passes malformed data through and notes upstream error events', () => {
    const meter = new SseMeter({ clientWantsUsage: false, now: () => 0 })
    const text = 'data: {not json\n\ndata: {"error":{"code":"overloaded","message":"x"}}\n\n'
    expect(feed(meter, text, 4)).toBe(text)
    expect(meter.upstreamErrorCode).toBe('overloaded')
    expect(meter.usage).toBeUndefined()
  })

  it('estimates from deltas when tokens are shorter than four characters', () => {
    expect(estimateUsage({ promptChars: 40, contentChars: 5, reasoningChars: 0, contentDeltas: 5 }).completionTokens).toBe(5)
    expect(estimateUsage({ promptChars: 40, contentChars: 400, reasoningChars: 8, contentDeltas: 5, reasoningDeltas: 1 })).toMatchObject({ promptTokens: 10, completionTokens: 102, reasoningTokens: 2 })
  })
})
