import { describe, expect, it } from 'vitest'
import { decideAuto, parseCompletionTokens, type AutoConfig } from '../../src/routing/auto-route.js'
import { predictLatencyMs, promptTokensEstimate, type HostTelemetry } from '../../src/routing/predict-latency.js'

const idle: HostTelemetry = { host: 'a', slotsTotal: 1, occupied: 0, prefillTokensPerSecond: 100, decodeTokensPerSecond: 10, latencyP50Ms: null }
const config: AutoConfig = { defaultDeadlineMs: 30_000, typicalCompletionTokens: 256, completionTokensByModel: { long: 1000 } }

describe('predictLatencyMs', () => {
  it('is prefill plus decode time on an idle host', () => {
    // 200 / 100 s + 50 / 10 s = 2 s + 5 s
    expect(predictLatencyMs({ telemetry: idle, promptTokens: 200, completionTokens: 50 })).toBe(7000)
  })

  it('adds the requests ahead of this one times a typical request, shared by the slots', () => {
    const busy = { ...idle, occupied: 3, latencyP50Ms: 4000 }
    // 3 occupied on 1 slot: 3 ahead × 4 s, + 7 s own
    expect(predictLatencyMs({ telemetry: busy, promptTokens: 200, completionTokens: 50 })).toBe(19_000)
    // 2 slots, 3 occupied: 2 ahead × 4 s / 2 slots
    expect(predictLatencyMs({ telemetry: { ...busy, slotsTotal: 2 }, promptTokens: 200, completionTokens: 50 })).toBe(11_000)
  })

  it('takes this request as typical before any history, and the decode rate for an unmeasured prefill', () => {
    const t = { ...idle, occupied: 1, prefillTokensPerSecond: null }
    // own = 100/10 + 50/10 = 15 s; one ahead of the same length
    expect(predictLatencyMs({ telemetry: t, promptTokens: 100, completionTokens: 50 })).toBe(30_000)
  })

  it('has nothing to say without a decode rate', () => {
    expect(predictLatencyMs({ telemetry: { ...idle, decodeTokensPerSecond: null }, promptTokens: 1, completionTokens: 1 })).toBeNull()
    expect(predictLatencyMs({ telemetry: { ...idle, decodeTokensPerSecond: 0 }, promptTokens: 1, completionTokens: 1 })).toBeNull()
  })

  it('estimates prompt tokens as UTF-8 bytes / 4, rounded up', () => {
    expect(promptTokensEstimate(401)).toBe(101)
  })
})

describe('decideAuto', () => {
  const base = { order: ['local', 'hosted'] as Array<'local' | 'hosted'>, telemetry: idle, bodyBytes: 400, model: 'm', maxTokens: undefined, deadlineHeader: undefined, teamDeadlineMs: null, config }

  it('keeps local when the prediction meets the deadline, hosted otherwise', () => {
    // 100 prompt tokens / 100 + 256 / 10 = 26.6 s against 30 s
    expect(decideAuto(base)).toEqual({ ok: true, order: ['local', 'hosted'], predictedLatencyMs: 26_600, reason: 'auto:local-meets-deadline', deadlineMs: 30_000 })
    expect(decideAuto({ ...base, deadlineHeader: '20000' })).toMatchObject({ order: ['hosted', 'local'], predictedLatencyMs: 26_600, reason: 'auto:hosted-local-too-slow', deadlineMs: 20_000 })
  })

  it('takes the header over the team over the gateway deadline', () => {
    expect(decideAuto({ ...base, teamDeadlineMs: 10_000 })).toMatchObject({ deadlineMs: 10_000, reason: 'auto:hosted-local-too-slow' })
    expect(decideAuto({ ...base, teamDeadlineMs: 10_000, deadlineHeader: '60000' })).toMatchObject({ deadlineMs: 60_000, reason: 'auto:local-meets-deadline' })
  })

  it('uses max_tokens, else the per-model, else the default completion length', () => {
    expect(decideAuto({ ...base, maxTokens: 10 })).toMatchObject({ predictedLatencyMs: 2000 })
    expect(decideAuto({ ...base, model: 'long' })).toMatchObject({ predictedLatencyMs: 101_000 })
  })

  it('goes hosted-first without telemetry, and keeps a single usable backend', () => {
    expect(decideAuto({ ...base, telemetry: null })).toMatchObject({ order: ['hosted', 'local'], predictedLatencyMs: null, reason: 'auto:no-telemetry' })
    expect(decideAuto({ ...base, order: ['local'] })).toMatchObject({ order: ['local'], reason: 'auto:local-only' })
    expect(decideAuto({ ...base, order: ['hosted'] })).toMatchObject({ order: ['hosted'], reason: 'auto:hosted-only' })
  })

  it('refuses a malformed deadline header', () => {
    for (const bad of ['0', '-5', 'soon', '1.5']) expect(decideAuto({ ...base, deadlineHeader: bad })).toMatchObject({ ok: false, status: 400, code: 'invalid_deadline' })
  })
})

describe('parseCompletionTokens', () => {
  it('reads a default and per-model lengths', () => {
    expect(parseCompletionTokens(undefined)).toEqual({ typicalCompletionTokens: 256, completionTokensByModel: {} })
    expect(parseCompletionTokens('128, deepseek-r1=1024')).toEqual({ typicalCompletionTokens: 128, completionTokensByModel: { 'deepseek-r1': 1024 } })
    expect(() => parseCompletionTokens('x=0')).toThrow(/AUTO_COMPLETION_TOKENS/)
  })
})
