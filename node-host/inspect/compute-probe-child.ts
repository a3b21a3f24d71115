/**
 * Child process of inspect's compute probe (compute-probe.ts): writes the probe models (probe-models.ts),
 * loads them with llama.cpp (one thread, the variant serve would pick) and times decode steps through
 * node-llama-cpp's own sampling loop, with node-host's default sampling. Rounds go round the models in
 * turn, so a noisy neighbour slows all of them alike. Prints one JSON line (a ComputeProbeResult).
 */
import { join } from 'node:path'
import type { LlamaContextSequence, LlamaModel } from 'node-llama-cpp'
import { readGgufHeader } from '../gguf/reader.js'
import { writeGgufAtomic } from '../gguf/writer.js'
import { loadLlama } from '../engine/llama-binding.js'
import type { ComputeProbeResult, ProbeModelTiming } from './compute-model.js'
import type { ComputeProbeRequest } from './compute-probe.js'
import { weightStats } from './model-stats.js'
import { largeProbeWidth, MAX_DEEP_BLOCKS, PROBE_BLOCKS, PROBE_QUANTS, probeLayout, SMALL_WIDTH } from './probe-models.js'

// ~400 steps per model: small models step in 0.2-0.8 ms, and the width-to-width difference is 0.1-0.4 ms.
const ROUNDS = 8
const STEPS_PER_ROUND = 48
const WARM_UP_STEPS = 8

interface Loaded extends Omit<ProbeModelTiming, 'stepMs'> {
  model: LlamaModel
  sequence: LlamaContextSequence
  stepTimesMs: number[]
}

const request = JSON.parse(process.argv[2] ?? '{}') as ComputeProbeRequest
const llama = await loadLlama(request.folder, (level, message) => {
  if (level === 'error' || level === 'fatal') process.stderr.write(`${message}\n`)
})

const plans: Array<Omit<ProbeModelTiming, 'stepMs' | 'matmulParams'> & { width: number }> = []
for (const type of request.types) {
  const quant = PROBE_QUANTS[type]!
  plans.push({ type, role: 'small', blocks: PROBE_BLOCKS, width: SMALL_WIDTH })
  plans.push({ type, role: 'large', blocks: PROBE_BLOCKS, width: largeProbeWidth(quant, PROBE_BLOCKS, request.cacheBudgetBytes) })
}
const deepBlocks = Math.min(MAX_DEEP_BLOCKS, Math.max(1, request.blocks))
if (deepBlocks !== PROBE_BLOCKS) plans.push({ type: request.types[0]!, role: 'deep', blocks: deepBlocks, width: SMALL_WIDTH })

const loaded: Loaded[] = []
for (const plan of plans) {
  const path = join(request.dir, `${plan.type}-${plan.role}.gguf`)
  await writeGgufAtomic(path, probeLayout(PROBE_QUANTS[plan.type]!, plan.width, plan.blocks))
  const matmulParams = Object.values(weightStats(await readGgufHeader(path)).matmulParamsByType).reduce((a, b) => a + b, 0)
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 })
  const context = await model.createContext({ sequences: 1, contextSize: 256, threads: 1 })
  loaded.push({ type: plan.type, role: plan.role, blocks: plan.blocks, matmulParams, model, sequence: context.getSequence(), stepTimesMs: [] })
}

/** Times `steps` decode steps after the prompt's (each: decode one token, sample the next). */
async function timeSteps(probe: Loaded, steps: number, seed: number): Promise<number[]> {
  await probe.sequence.clearHistory()
  const times: number[] = []
  let last: number | undefined
  const tokens = probe.sequence.evaluate(probe.model.tokenize('compute probe'), { temperature: 1, topK: 40, topP: 1, minP: 0, seed, yieldEogToken: true })
  for await (const token of tokens) {
    void token
    const now = performance.now()
    if (last !== undefined) times.push(now - last)
    last = now
    if (times.length >= steps) break
  }
  return times
}

for (const probe of loaded) await timeSteps(probe, WARM_UP_STEPS, 0)
for (let round = 0; round < ROUNDS; round++) {
  for (const probe of round % 2 === 0 ? loaded : [...loaded].reverse()) probe.stepTimesMs.push(...(await timeSteps(probe, STEPS_PER_ROUND, round + 1)))
}

// The median: the kernels' speed is the machine's, and steps a neighbour stretched would only blur the slope.
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const result: ComputeProbeResult = {
  variant: request.folder.variant,
  cacheBudgetBytes: request.cacheBudgetBytes,
  models: loaded.map(({ type, role, blocks, matmulParams, stepTimesMs }) => ({ type, role, blocks, matmulParams, stepMs: median(stepTimesMs) })),
}
process.stdout.write(`${JSON.stringify(result)}\n`)
process.exit(0)
