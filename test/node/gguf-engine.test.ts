// Loads the generated GGUF files with the real llama.cpp (node-llama-cpp, CPU, prebuilt binaries).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ChatMLChatWrapper, LlamaChatSession, LlamaLogLevel, resolveChatWrapper, type Llama, type LlamaModel } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deepseek2Layout } from '../../node-host/gguf/layouts/deepseek2.js'
import { DEEPSEEK2_SHAPES } from '../../node-host/gguf/presets.js'
import { readGgufHeader } from '../../node-host/gguf/reader.js'
import { ensureTestModel, type TestModelLayout } from '../../node-host/gguf/test-models.js'
import { buildTinyVocab, CHATML_TEMPLATE } from '../../node-host/gguf/vocab.js'
import { writeGgufAtomic } from '../../node-host/gguf/writer.js'
import { setLlamaLogSink, sharedLlama } from '../../node-host/engine/llama-binding.js'
import { useVariantForModels } from '../support/shared-variant.js'
import { kvCacheBytes } from '../../node-host/inspect/kv-cache.js'
import { weightStats } from '../../node-host/inspect/model-stats.js'

// 1 thread: the default oversubscribes this shared 2-core box, and tiny models gain nothing from more
const THREADS = 1
const LAYOUTS: TestModelLayout[] = ['llama-moe', 'deepseek2']

let llama: Llama
const llamaLog: string[] = []
const models = new Map<TestModelLayout, { path: string; model: LlamaModel }>()

beforeAll(async () => {
  // The CPU variant node-host would prove for these models (an AMX Xeon's best one aborts on deepseek2 Q8_0).
  const paths = await Promise.all(LAYOUTS.map((layout) => ensureTestModel({ layout })))
  const choice = await useVariantForModels(paths)
  setLlamaLogSink((_level, message) => llamaLog.push(message))
  llama = await sharedLlama(choice.folder, LlamaLogLevel.info)
  for (const [i, layout] of LAYOUTS.entries()) models.set(layout, { path: paths[i]!, model: await llama.loadModel({ modelPath: paths[i]! }) })
})

afterAll(async () => {
  await llama?.dispose()
})

function loaded(layout: TestModelLayout) {
  const entry = models.get(layout)
  if (!entry) throw new Error(`${layout} not loaded`)
  return entry
}

/** Sample `count` tokens (EOS ignored) from a fresh context. */
async function generate(model: LlamaModel, prompt: string, seed: number, count = 32): Promise<number[]> {
  const context = await model.createContext({ contextSize: 256, threads: THREADS })
  try {
    const tokens: number[] = []
    for await (const token of context.getSequence().evaluate(model.tokenize(prompt), { temperature: 0.8, seed })) {
      tokens.push(token)
      if (tokens.length >= count) break
    }
    return tokens
  } finally {
    await context.dispose()
  }
}

describe.each(LAYOUTS)('%s model on real llama.cpp', (layout) => {
  it('generates 32 tokens deterministically for a fixed seed', async () => {
    const { model } = loaded(layout)
    const first = await generate(model, 'The quick brown fox', 42)
    const second = await generate(model, 'The quick brown fox', 42)
    const otherSeed = await generate(model, 'The quick brown fox', 43)
    expect(first).toHaveLength(32)
    expect(second).toEqual(first)
    expect(otherSeed).not.toEqual(first)
    expect(new Set(first).size).toBeGreaterThan(4) // sampling over finite, non-degenerate logits
    const vocabSize = buildTinyVocab().tokens.length
    for (const token of first) expect(token).toBeLessThan(vocabSize)
  })

  it('has exactly the weight bytes and parameter count inspect computes', async () => {
    const { path, model } = loaded(layout)
    const stats = weightStats(await readGgufHeader(path))
    expect(model.size).toBe(stats.weightBytes) // llama_model_size()
    expect(model.fileInsights.totalParameters).toBe(stats.totalParams)
  })

  it('allocates the KV cache size inspect predicts', async () => {
    const { path, model } = loaded(layout)
    llamaLog.length = 0
    const context = await model.createContext({ contextSize: 4096, threads: THREADS })
    await context.dispose()
    // e.g. "llama_kv_cache: size =    1.00 MiB (  4096 cells,   2 layers,  1/1 seqs), K (f16): ..."
    const line = llamaLog.find((message) => /llama_kv_cache: size =/.test(message))
    const match = line && /size =\s*([\d.]+) MiB \(\s*(\d+) cells/.exec(line)
    expect(match, 'llama.cpp KV cache log line').toBeTruthy()
    const [, mib, cells] = match as RegExpExecArray
    const predicted = kvCacheBytes((await readGgufHeader(path)).metadata, Number(cells))
    expect(Math.abs(predicted / 2 ** 20 - Number(mib))).toBeLessThanOrEqual(0.006) // log rounds to 0.01 MiB
  })
})

describe('tokenizer', () => {
  const texts = [
    'Hello, world! The quick brown fox jumps over 13 lazy dogs.\n\tTabs  and   spaces . , ;',
    'function main() { return { status: 200 } } // code-ish',
    'Grüße, naïve café — 日本語のテキスト, emoji 🚀👍🏽 and Ελληνικά',
    '',
  ]

  it('round-trips arbitrary ASCII and UTF-8 text', () => {
    for (const layout of LAYOUTS) {
      const { model } = loaded(layout)
      for (const text of texts) expect(model.detokenize(model.tokenize(text))).toBe(text)
    }
  })

  it('uses merges (fewer tokens than bytes) and keeps ChatML/think tags as single tokens', () => {
    const { model } = loaded('llama-moe')
    const sentence = 'The model reads the prompt and then writes the answer.'
    expect(model.tokenize(sentence).length).toBeLessThan(Buffer.byteLength(sentence) / 2)
    for (const tag of ['<|im_start|>', '<|im_end|>']) {
      expect(model.tokenize(tag, true)).toHaveLength(1)
    }
    expect(model.tokenize('<|im_end|>', true)[0]).toBe(model.tokens.eos)
    // reasoning tags are user-defined tokens: parsed from plain text and visible when detokenized
    const think = model.tokenize('<think>plan</think>')
    expect(think).toHaveLength(2 + model.tokenize('plan').length)
    expect(model.detokenize(think)).toBe('<think>plan</think>')
  })
})

describe('chat template', () => {
  it('resolves a ChatML chat wrapper from tokenizer.chat_template and chats', async () => {
    const { model } = loaded('deepseek2')
    expect(model.fileInfo.metadata.tokenizer?.chat_template).toBe(CHATML_TEMPLATE)
    expect(resolveChatWrapper(model)).toBeInstanceOf(ChatMLChatWrapper)
    const context = await model.createContext({ contextSize: 512, threads: THREADS })
    try {
      const session = new LlamaChatSession({ contextSequence: context.getSequence() })
      expect(session.chatWrapper).toBeInstanceOf(ChatMLChatWrapper)
      const answer = await session.prompt('Hi there', { maxTokens: 8, seed: 1, temperature: 0.8 })
      expect(typeof answer).toBe('string')
      expect(session.getChatHistory().at(-1)?.type).toBe('model')
    } finally {
      await context.dispose()
    }
  })
})

describe('deepseek2 without q lora (V2-Lite-style attn_q)', () => {
  it('loads and generates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ds2-noqlora-'))
    try {
      const path = join(dir, 'model.gguf')
      const layout = deepseek2Layout({ ...DEEPSEEK2_SHAPES.tiny, qLoraRank: 0 }, buildTinyVocab(), {
        seed: 5,
        quant: 'f16',
        name: 'no q lora',
      })
      await writeGgufAtomic(path, layout)
      const model = await llama.loadModel({ modelPath: path })
      try {
        expect(await generate(model, 'Hello', 1, 8)).toHaveLength(8)
      } finally {
        await model.dispose()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
