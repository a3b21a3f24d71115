/**
 * Child process of a variant probe (probe.ts): loads the binding from one variant folder, the model,
 * a context with the serving settings, and decodes a token, printing a JSON line per stage on stdout.
 * A native abort kills only this process; the parent reads the last stage and stderr.
 */
import { loadLlama, mappedCpuVariants } from '../engine/llama-binding.js'
import type { ProbeRequest, ProbeStage } from './probe.js'

function report(line: { stage: ProbeStage } & Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

const request = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest
try {
  const llama = await loadLlama(request.folder, (level, message) => {
    if (level === 'error' || level === 'fatal') process.stderr.write(`${message}\n`)
  })
  report({ stage: 'binding', loaded: mappedCpuVariants(), systemInfo: llama.systemInfo })
  const model = await llama.loadModel({ modelPath: request.modelPath, gpuLayers: 0 })
  report({ stage: 'model' })
  const context = await model.createContext({ sequences: request.sequences, contextSize: request.contextSize, threads: request.threads })
  report({ stage: 'context' })
  const sequence = context.getSequence()
  for await (const token of sequence.evaluate(model.tokenize('probe'))) {
    void token
    break
  }
  report({ stage: 'decode' })
  await context.dispose()
  await model.dispose()
  report({ stage: 'done' })
  process.exit(0)
} catch (err) {
  // A JavaScript-level failure (missing file, bad GGUF, out of memory): not the variant's fault.
  report({ stage: 'error', message: (err instanceof Error ? err.message : String(err)).split('\n')[0] })
  process.exit(3)
}
