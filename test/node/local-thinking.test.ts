/**
 * Thinking on and off, and n > 1, on the local path: a tiny deepseek2 model carrying DeepSeek-R1's
 * published chat template (its generation prompt opens `<think>\n`), through the gateway with the
 * openai SDK. `logit_bias` on `</think>` decides, per test, whether the random weights stop thinking.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readGgufHeader } from '../../node-host/gguf/reader.js'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import type { RunningGateway } from '../../src/node.js'
import { processLlama } from '../../node-host/engine/llama-binding.js'
import { DEEPSEEK_TOKENS } from '../../node-host/gguf/deepseek-vocab.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { findPythonWithJinja, renderWithJinja2 } from '../support/jinja-reference.js'

const SECRET = 'gateway-to-node-host-thinking-secret'
const ASK = [{ role: 'user' as const, content: 'What is 2 + 2?' }]
let host: NodeHost
let gw: RunningGateway
let client: OpenAI
let teamId: string
let thinkEnd: number
let callsBegin: number
let modelPath: string

beforeAll(async () => {
  const model = await ensureTestModel({ layout: 'deepseek2', template: 'deepseek-r1' })
  modelPath = model
  const vocab = (await readGgufHeader(model)).metadata['tokenizer.ggml.tokens'] as string[]
  thinkEnd = vocab.indexOf('</think>')
  callsBegin = vocab.indexOf('<｜tool▁calls▁begin｜>')
  host = await startNodeHost({ model, modelName: 'tiny-r1', secret: SECRET, threads: 1, parallel: 4, contextSize: 1024 })
  gw = await startTestGateway({ env: { NODE_HOST_URL: host.url, NODE_HOST_SECRET: SECRET, LOCAL_MODELS: 'tiny-r1' } })
  const team = await teamWithKey(gw, { mode: 'local' })
  teamId = team.teamId
  client = new OpenAI({ apiKey: team.key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
})

afterAll(async () => {
  await gw?.close()
  await host?.close()
})

type ThinkingBody = Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> & { thinking?: { type: string }; reasoning_effort?: string }
type Reply = OpenAI.ChatCompletion & { choices: (OpenAI.ChatCompletion.Choice & { message: { reasoning_content?: string } })[] }

async function ask(body: ThinkingBody): Promise<Reply> {
  return (await client.chat.completions.create({ model: 'tiny-r1', messages: ASK, max_tokens: 12, seed: 3, ...body } as OpenAI.ChatCompletionCreateParamsNonStreaming)) as Reply
}

describe('thinking on the R1 template', () => {
  it('starts in reasoning by default: reasoning_content, and every token counted as reasoning until </think>', async () => {
    const r = await ask({ logit_bias: { [thinkEnd]: -100 } })
    expect(r.choices[0]!.message.reasoning_content!.length).toBeGreaterThan(0)
    expect(r.choices[0]!.message.content).toBe('')
    expect(r.usage!.completion_tokens_details!.reasoning_tokens).toBe(r.usage!.completion_tokens)
  })

  it('splits reasoning from the answer at </think> and counts only the thinking tokens', async () => {
    const r = await ask({ logit_bias: { [thinkEnd]: 100 }, max_tokens: 10 })
    // The very first token closes the (empty) thoughts; it is the one reasoning token.
    expect(r.choices[0]!.message.reasoning_content ?? '').toBe('')
    expect(r.usage!.completion_tokens_details!.reasoning_tokens).toBe(1)
    expect(r.choices[0]!.message.content!.length).toBeGreaterThan(0)
  })

  it('turns thinking off with thinking.disabled or deepseek-chat: the template is rendered with the think block closed', async () => {
    const on = await ask({ logit_bias: { [thinkEnd]: -100 } })
    for (const body of [{ thinking: { type: 'disabled' } }, { model: 'deepseek-chat' }, { model: 'deepseek-chat', thinking: { type: 'enabled' } }] as ThinkingBody[]) {
      const off = await ask({ ...body, logit_bias: { [thinkEnd]: -100 } })
      expect(off.choices[0]!.message.reasoning_content).toBeUndefined()
      expect(off.usage!.completion_tokens_details!.reasoning_tokens).toBe(0)
      expect(off.choices[0]!.message.content!.length).toBeGreaterThan(0)
      // "\n</think>\n\n" closes the block: more prompt tokens than with thinking on.
      expect(off.usage!.prompt_tokens).toBeGreaterThan(on.usage!.prompt_tokens)
    }
  })

  it('keeps thinking on for deepseek-reasoner, thinking.enabled and a reasoning_effort', async () => {
    for (const body of [{ model: 'deepseek-reasoner', thinking: { type: 'disabled' } }, { thinking: { type: 'enabled' } }, { reasoning_effort: 'high' }] as ThinkingBody[]) {
      const r = await ask({ ...body, logit_bias: { [thinkEnd]: -100 } })
      expect(r.usage!.completion_tokens_details!.reasoning_tokens).toBe(r.usage!.completion_tokens)
    }
  })

  it('drops earlier reasoning from the history, as the R1 template does, whether inline or as reasoning_content', async () => {
    const plain = await ask({ messages: [...ASK, { role: 'assistant', content: 'Four.' }, { role: 'user', content: 'Sure?' }], max_tokens: 2 })
    const inline = await ask({ messages: [...ASK, { role: 'assistant', content: '<think>add two and two, carefully</think>Four.' }, { role: 'user', content: 'Sure?' }], max_tokens: 2 })
    const field = await ask({ messages: [...ASK, { role: 'assistant', content: 'Four.', reasoning_content: 'add two and two' } as OpenAI.ChatCompletionAssistantMessageParam, { role: 'user', content: 'Sure?' }], max_tokens: 2 })
    expect(inline.usage!.prompt_tokens).toBe(plain.usage!.prompt_tokens)
    expect(field.usage!.prompt_tokens).toBe(plain.usage!.prompt_tokens)
  })

  it('makes a forced tool call after the reasoning ends', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'add', parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] } } }]
    const r = await ask({ tools, tool_choice: 'required', parallel_tool_calls: false, max_tokens: 200, logit_bias: { [thinkEnd]: 100 } })
    expect(r.choices[0]!.finish_reason).toBe('tool_calls')
    const call = r.choices[0]!.message.tool_calls![0]!
    if (call.type !== 'function') throw new Error('not a function call')
    const args = JSON.parse(call.function.arguments) as { a: unknown; b: unknown }
    expect([Number.isSafeInteger(args.a), Number.isSafeInteger(args.b)]).toEqual([true, true])
    expect(r.usage!.completion_tokens_details!.reasoning_tokens).toBeGreaterThanOrEqual(1)
    expect(callsBegin).toBeGreaterThan(0)
  })
})

describe('the prompt node-host evaluates', () => {
  it('is, token for token, what Python jinja2 renders from the GGUF template for the same OpenAI messages', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You can look things up.' },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c": 18}' },
      { role: 'assistant', content: '<think>it is mild</think>Mild: 18 °C.' },
      { role: 'user', content: 'And tomorrow?' },
    ]
    const r = await ask({ messages, max_tokens: 1 })
    const template = (await readGgufHeader(modelPath)).metadata['tokenizer.chat_template'] as string
    const reference = renderWithJinja2(findPythonWithJinja(), { template, messages, bos_token: DEEPSEEK_TOKENS.bos, eos_token: DEEPSEEK_TOKENS.eos, add_generation_prompt: true })
    const model = await (await processLlama()).loadModel({ modelPath, vocabOnly: true })
    try {
      // The template writes BOS itself; node-host adds none on top (add_bos_token notwithstanding).
      expect(r.usage!.prompt_tokens).toBe(model.tokenize(reference, true).length)
    } finally {
      await model.dispose()
    }
  })
})

describe('n > 1 on local', () => {
  it('answers n choices, each its own seeded generation, with the completions summed in usage', async () => {
    const r = await ask({ n: 3, seed: 11, max_tokens: 8, thinking: { type: 'disabled' } })
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2])
    expect(new Set(r.choices.map((c) => c.message.content)).size).toBe(3)
    expect(r.usage!.completion_tokens).toBe(24)
    const again = await ask({ n: 3, seed: 11, max_tokens: 8, thinking: { type: 'disabled' } })
    expect(again.choices.map((c) => c.message.content)).toEqual(r.choices.map((c) => c.message.content))
    const rows = await usageRowsOf(gw, teamId)
    expect(rows.at(-1)).toMatchObject({ backend: 'local', status: 200, completionTokens: 24 })
  })

  it('streams n choices interleaved, each with its index and its own finish', async () => {
    const stream = await client.chat.completions.create({ model: 'tiny-r1', messages: ASK, max_tokens: 6, n: 2, seed: 5, stream: true, stream_options: { include_usage: true }, thinking: { type: 'disabled' } } as OpenAI.ChatCompletionCreateParamsStreaming)
    const text = ['', '']
    const finishes: (string | null)[] = [null, null]
    let usage: OpenAI.CompletionUsage | undefined
    for await (const c of stream) {
      for (const choice of c.choices) {
        text[choice.index] += choice.delta.content ?? ''
        finishes[choice.index] = choice.finish_reason ?? finishes[choice.index]!
      }
      usage = c.usage ?? usage
    }
    expect(finishes).toEqual(['length', 'length'])
    expect(text.every((t) => t.length > 0)).toBe(true)
    expect(usage?.completion_tokens).toBe(12)
  })
})
