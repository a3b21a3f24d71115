/**
 * The baseline for node-host's decode speed: node-llama-cpp driven directly (no node-host code), with the
 * settings node-host uses (CPU, same threads, context size, chat prompt, sampling and grammar). It times
 * its own tokens, first to last, and answers POST /generate with them. Args: model threads contextSize.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getLlama, LlamaGrammarEvaluationState, LlamaLogLevel, resolveChatWrapper, type ChatHistoryItem, type LlamaGrammar } from 'node-llama-cpp'

export interface DirectGenerateRequest {
  system: string
  user: string
  maxTokens: number
  seed: number
  grammar: string
}

export interface DirectGenerateResponse {
  /** performance.now() of each generated token as the iterator yielded it, relative to the first. */
  tokenTimesMs: number[]
  /** After the iterator was closed, relative to the first token: node-host's timings end here too. */
  endMs: number
}

const [modelPath, threads, contextSize] = process.argv.slice(2)
if (!modelPath || !threads || !contextSize) throw new Error('usage: direct-llama.ts <model> <threads> <contextSize>')
const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 0, logLevel: LlamaLogLevel.warn })
const model = await llama.loadModel({ modelPath, gpuLayers: 0 })
const context = await model.createContext({ sequences: 1, contextSize: Number(contextSize), threads: Number(threads) })
const sequence = context.getSequence()
const wrapper = resolveChatWrapper(model)
const grammars = new Map<string, LlamaGrammar>()

async function generate(req: DirectGenerateRequest): Promise<DirectGenerateResponse> {
  const chatHistory: ChatHistoryItem[] = [{ type: 'system', text: req.system }, { type: 'user', text: req.user }, { type: 'model', response: [] }]
  const promptTokens = wrapper.generateContextState({ chatHistory }).contextText.tokenize(model.tokenizer)
  let grammar = grammars.get(req.grammar)
  if (!grammar) grammars.set(req.grammar, (grammar = await llama.createGrammar({ grammar: req.grammar })))
  await sequence.clearHistory()
  const times: number[] = []
  // node-host's sampling defaults: temperature 1, top_k 40, top_p 1, min_p 0.
  const tokens = sequence.evaluate(promptTokens, {
    temperature: 1,
    topK: 40,
    topP: 1,
    minP: 0,
    seed: req.seed,
    grammarEvaluationState: new LlamaGrammarEvaluationState({ model, grammar }),
    yieldEogToken: true,
  })
  for await (const token of tokens) {
    times.push(performance.now())
    if (model.isEogToken(token) || times.length >= req.maxTokens) break
  }
  const first = times[0] ?? performance.now()
  return { tokenTimesMs: times.map((t) => t - first), endMs: performance.now() - first }
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    generate(JSON.parse(Buffer.concat(chunks).toString()) as DirectGenerateRequest).then(
      (out) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out)),
      (err: unknown) => res.writeHead(500).end(String(err)),
    )
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}\n`))
process.on('SIGTERM', () => {
  server.close()
  void context.dispose().then(() => model.dispose()).then(() => process.exit(0))
})
