/** inspect's compute side (kernel speed beside bandwidth) and the batching ceiling expert overlap allows. */
import { describe, expect, it } from 'vitest'
import type { GgufTensorInfo, GgufValue } from '../../node-host/gguf/reader.js'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { bytesReadPerStep, expectedDistinctExperts, expertOverlapCeiling } from '../../node-host/inspect/batching.js'
import { runInspect } from '../../node-host/inspect/command.js'
import { computeProfile, predictBatchedStep, predictDecodeStep, type ComputeProbeResult, type ComputeProfile } from '../../node-host/inspect/compute-model.js'
import { probeTypes } from '../../node-host/inspect/compute-probe.js'
import { weightStats } from '../../node-host/inspect/model-stats.js'
import { cacheBudgetBytes, largeProbeWidth, layoutBytes, probeLayout } from '../../node-host/inspect/probe-models.js'

function tensor(name: string, dims: number[], typeName: string, byteSize: number): GgufTensorInfo {
  return { name, dims, type: 0, typeName, offsetBytes: 0, elementCount: dims.reduce((a, b) => a * b, 1), byteSize }
}

const moe = {
  metadata: { 'general.architecture': 'llama', 'llama.block_count': 1, 'llama.expert_count': 4, 'llama.expert_used_count': 1 } as Record<string, GgufValue>,
  tensors: [
    tensor('token_embd.weight', [4, 10], 'F16', 80),
    tensor('output.weight', [4, 10], 'Q8_0', 40),
    tensor('blk.0.attn_q.weight', [4, 4], 'F16', 32),
    tensor('blk.0.attn_norm.weight', [4], 'F32', 16),
    tensor('blk.0.ffn_gate_inp.weight', [4, 4], 'F32', 64),
    tensor('blk.0.ffn_up_exps.weight', [4, 8, 4], 'Q8_0', 400),
  ],
}

describe('weightStats: what compute and batching are made of', () => {
  it('counts multiplied weights by type, routed experts at their used share, not the embedding row or norms', () => {
    const stats = weightStats(moe)
    expect(stats.matmulParamsByType).toEqual({ Q8_0: 40 + 128 / 4, F16: 16, F32: 16 })
    expect(stats.routedExperts).toEqual([{ usedFraction: 0.25, bytes: 400 }])
  })
})

describe('batching ceiling (pure)', () => {
  it('expects E * (1 - (1 - k_used/E)^k) distinct experts for k streams', () => {
    expect(expectedDistinctExperts(16, 2, 1)).toBeCloseTo(2, 12)
    expect(expectedDistinctExperts(16, 2, 2)).toBeCloseTo(3.75, 12)
    expect(expectedDistinctExperts(16, 2, 4)).toBeCloseTo(16 * (1 - (14 / 16) ** 4), 12)
    expect(expectedDistinctExperts(8, 8, 3)).toBe(8)
    expect(expectedDistinctExperts(0, 0, 4)).toBe(0)
  })

  it('reads shared weights once per step and routed experts by the expected distinct count', () => {
    const weights = { bytesReadPerToken: 1000, routedExperts: [{ usedFraction: 0.25, bytes: 2000 }] }
    // 500 routed at one stream, so 500 shared; two streams read 1 - 0.75^2 of the experts
    expect(bytesReadPerStep(weights, 1)).toBe(1000)
    expect(bytesReadPerStep(weights, 2)).toBeCloseTo(500 + 2000 * (1 - 0.75 ** 2), 9)
    expect(expertOverlapCeiling(100, weights, 2)).toBeCloseTo((100 * 2 * 1000) / (500 + 875), 9)
  })

  it('lets a dense model scale with the streams, since nothing more is read', () => {
    expect(expertOverlapCeiling(50, { bytesReadPerToken: 1e9, routedExperts: [] }, 4)).toBe(200)
  })
})

describe('compute model (pure)', () => {
  const timing = (role: 'small' | 'large' | 'deep', matmulParams: number, stepMs: number, type = 'Q8_0', blocks = 4) => ({ type, role, blocks, matmulParams, stepMs })

  it('fits the kernel speed from two widths and the overhead from the deep model', () => {
    const result: ComputeProbeResult = { variant: 'zen4', cacheBudgetBytes: 8e6, models: [timing('small', 1e6, 0.3), timing('large', 11e6, 0.7), timing('deep', 3e6, 0.5, 'Q8_0', 30)] }
    const profile = computeProfile(result)
    expect(profile.weightsPerSecondByType.Q8_0).toBeCloseTo(10e6 / 0.4e-3, 0)
    // 3e6 weights at 25e9/s take 0.12 ms of the deep model's 0.5
    expect(profile.stepOverheadMs).toBeCloseTo(0.38, 9)
  })

  it('charges the whole large step to its weights when noise inverts the slope', () => {
    const profile = computeProfile({ variant: 'x64', cacheBudgetBytes: 8e6, models: [timing('small', 1e6, 0.8), timing('large', 5e6, 0.5)] })
    expect(profile.weightsPerSecondByType.Q8_0).toBeCloseTo(5e6 / 0.5e-3, 0)
  })

  const profile: ComputeProfile = { weightsPerSecondByType: { Q8_0: 20e9, F16: 40e9 }, stepOverheadMs: 0.3, variant: 'zen4', threads: 1 }

  it('predicts overhead + the 3-norm of reading and multiplying: the slower side when one dominates', () => {
    const memoryBound = predictDecodeStep({ bytesReadPerToken: 48e6, matmulParamsByType: { Q8_0: 18e6 } }, 20e9, profile)
    expect(memoryBound).toMatchObject({ bound: 'memory', unmeasuredTypes: [] })
    expect(memoryBound.memoryMs).toBeCloseTo(2.4, 9)
    expect(memoryBound.computeMs).toBeCloseTo(0.9, 9)
    expect(memoryBound.stepMs).toBeCloseTo(0.3 + Math.cbrt(2.4 ** 3 + 0.9 ** 3), 9)
    expect(memoryBound.tokensPerSecond).toBeCloseTo(1000 / memoryBound.stepMs, 9)
    const computeBound = predictDecodeStep({ bytesReadPerToken: 48e6, matmulParamsByType: { Q8_0: 60e6, F16: 20e6 } }, 40e9, profile)
    expect(computeBound.bound).toBe('compute')
    expect(computeBound.stepMs).toBeCloseTo(0.3 + Math.cbrt(1.2 ** 3 + 3.5 ** 3), 9)
    // balanced: 1.26x either side, where max() would say 1x, a 2-norm 1.41x and a sum 2x
    const balanced = predictDecodeStep({ bytesReadPerToken: 40e6, matmulParamsByType: { Q8_0: 40e6 } }, 20e9, profile)
    expect(balanced.stepMs - 0.3).toBeCloseTo(2 * Math.cbrt(2), 9)
  })

  it('decodes k streams in one step: shared weights read once, experts by overlap, every token multiplied, overhead once', () => {
    // 20e6 routed bytes at one token (a quarter of 80e6), so 20e6 shared
    const weights = { bytesReadPerToken: 40e6, routedExperts: [{ usedFraction: 0.25, bytes: 80e6 }], matmulParamsByType: { Q8_0: 20e6 } }
    expect(predictBatchedStep(weights, 20e9, profile, 1).stepMs).toBeCloseTo(predictDecodeStep(weights, 20e9, profile).stepMs, 12)
    const two = predictBatchedStep(weights, 20e9, profile, 2)
    expect(two.memoryMs).toBeCloseTo(((20e6 + 80e6 * (1 - 0.75 ** 2)) / 20e9) * 1000, 9)
    expect(two.computeMs).toBeCloseTo(2 * 1, 9)
    expect(two.stepMs).toBeCloseTo(0.3 + Math.cbrt(two.memoryMs ** 3 + 2 ** 3), 9)
    expect(two.tokensPerSecond).toBeCloseTo(2000 / two.stepMs, 9)
  })

  it('gains little from batching where multiplying dominates, and nears the overlap ceiling where reading does', () => {
    const routedExperts = [{ usedFraction: 1 / 8, bytes: 320e6 }]
    const speedup = (weights: Parameters<typeof predictBatchedStep>[0], bandwidth: number) => predictBatchedStep(weights, bandwidth, profile, 4).tokensPerSecond / predictDecodeStep(weights, bandwidth, profile).tokensPerSecond
    const computeBound = { bytesReadPerToken: 48e6, routedExperts, matmulParamsByType: { Q8_0: 200e6 } }
    expect(speedup(computeBound, 100e9)).toBeLessThan(1.1)
    const memoryBound = { bytesReadPerToken: 48e6, routedExperts, matmulParamsByType: { Q8_0: 1e6 } }
    const overlap = (4 * bytesReadPerStep(memoryBound, 1)) / bytesReadPerStep(memoryBound, 4)
    expect(speedup(memoryBound, 5e9)).toBeGreaterThan(0.95 * overlap)
    expect(speedup(memoryBound, 5e9)).toBeLessThan(1.05 * overlap)
  })

  it('names matrix types it has no speed for, unless they are a negligible share', () => {
    const p = predictDecodeStep({ bytesReadPerToken: 1e6, matmulParamsByType: { Q4_K: 50e6, Q8_0: 50e6, F32: 1e5 } }, 20e9, profile)
    expect(p.unmeasuredTypes).toEqual(['Q4_K'])
    expect(p.computeMs).toBeCloseTo(2.5, 9)
  })
})

describe('compute probe', () => {
  it('times the types it can write, biggest first, and leaves out leftovers', () => {
    expect(probeTypes({ matmulParamsByType: { F16: 20, Q8_0: 100, Q4_K: 1000, F32: 1 } })).toEqual(['Q8_0', 'F16'])
  })

  it('keeps its models within the cache budget', () => {
    for (const quant of ['q8_0', 'f16', 'f32'] as const) {
      const width = largeProbeWidth(quant, 4, 8 * 2 ** 20)
      expect(width % 64).toBe(0)
      expect(layoutBytes(probeLayout(quant, width, 4))).toBeLessThanOrEqual(8 * 2 ** 20)
      expect(layoutBytes(probeLayout(quant, width + 64, 4))).toBeGreaterThan(8 * 2 ** 20)
    }
    expect(cacheBudgetBytes(32 * 2 ** 20)).toBe(8 * 2 ** 20)
    expect(cacheBudgetBytes(256 * 2 ** 20)).toBe(16 * 2 ** 20)
    expect(cacheBudgetBytes(undefined)).toBe(8 * 2 ** 20)
  })

  it('measures llama.cpp on this machine when inspect plans for it, and predicts with compute beside bandwidth', async () => {
    const path = await ensureTestModel({ layout: 'llama-moe', size: 'demo' })
    const lines: string[] = []
    expect(await runInspect([path, '--json', '--bandwidth-gbs', '20', '--compute-probe'], (l) => lines.push(l))).toBe(0)
    const report = JSON.parse(lines.join('\n'))
    expect(report.computeProbe.models.map((m: { role: string }) => m.role)).toEqual(['small', 'large'])
    expect(report.decode.computeMs).toBeGreaterThan(0)
    expect(report.decode.stepMs).toBeCloseTo(report.decode.overheadMs + Math.cbrt(report.decode.memoryMs ** 3 + report.decode.computeMs ** 3), 9)
    expect(report.batchedTokensPerSecond['4']).toBeGreaterThan(report.decode.tokensPerSecond)
    expect(report.batchedWithComputeTokensPerSecond['2']).toBeGreaterThan(0)

    const text: string[] = []
    expect(await runInspect([path, '--bandwidth-gbs', '20'], (l) => text.push(l))).toBe(0)
    expect(text.join('\n')).toMatch(/Compute not measured \(--compute-probe measures it/)
  })
})
