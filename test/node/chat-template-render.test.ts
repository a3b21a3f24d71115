// DeepSeek-V3's and DeepSeek-R1's published chat templates, as a generated GGUF carries them: node-host
// renders them exactly as Hugging Face's jinja2 does, and the prompt tokenizes with the model's own
// special tokens (real llama.cpp through node-host's binding).
import type { Llama, LlamaModel, Token } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileChatTemplate, type TemplateMessage } from '../../node-host/engine/chat-template.js'
import { sharedLlama } from '../../node-host/engine/llama-binding.js'
import type { PublishedChatTemplate } from '../../node-host/gguf/chat-templates.js'
import { DEEPSEEK_TOKENS } from '../../node-host/gguf/deepseek-vocab.js'
import { readGgufHeader } from '../../node-host/gguf/reader.js'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { findPythonWithJinja, renderWithJinja2 } from '../support/jinja-reference.js'
import { useVariantForModels } from '../support/shared-variant.js'

const TEMPLATES: PublishedChatTemplate[] = ['deepseek-v3', 'deepseek-r1']
const T = DEEPSEEK_TOKENS

const weatherCalls: TemplateMessage = {
  role: 'assistant',
  content: null,
  tool_calls: [
    { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } },
    { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Tokyo"}' } },
  ],
}
const weatherResults: TemplateMessage[] = [
  { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c": 18}' },
  { role: 'tool', tool_call_id: 'call_2', content: '{"temp_c": 24}' },
]

const CONVERSATIONS: Record<string, TemplateMessage[]> = {
  'system and user': [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Grüße! What is 2 + 2? 日本語で' },
  ],
  'multi-turn': [
    { role: 'user', content: 'Hi there.' },
    { role: 'assistant', content: 'Hello! How can I help?' },
    { role: 'user', content: 'Tell me a joke.\n  Keep it short.  ' },
  ],
  'two system messages': [
    { role: 'system', content: 'Be brief.' },
    { role: 'system', content: 'Answer in English.' },
    { role: 'user', content: 'Why is the sky blue?' },
  ],
  'assistant with reasoning': [
    { role: 'user', content: 'What is 17 * 3?' },
    { role: 'assistant', content: '<think>\n17 * 3 = 51.\n</think>\n\nIt is 51.' },
    { role: 'user', content: 'And 17 * 4?' },
  ],
  'tool calls, two results, then the user': [
    { role: 'system', content: 'You can look things up.' },
    { role: 'user', content: 'Weather in Paris and Tokyo?' },
    weatherCalls,
    ...weatherResults,
    { role: 'user', content: 'Which is warmer?' },
  ],
  'tool results answered by the assistant': [
    { role: 'user', content: 'Weather in Paris and Tokyo?' },
    weatherCalls,
    ...weatherResults,
    { role: 'assistant', content: 'Tokyo, at 24 °C.' },
    { role: 'user', content: 'Thanks!' },
  ],
  // The templates' namespace flags (is_first, is_output_first) carry over into the second turn.
  'two tool-calling turns': [
    { role: 'user', content: 'Weather in Paris?' },
    { ...weatherCalls, tool_calls: weatherCalls.tool_calls!.slice(0, 1) },
    weatherResults[0]!,
    { role: 'assistant', content: '18 °C.' },
    { role: 'user', content: 'And Tokyo?' },
    { ...weatherCalls, tool_calls: weatherCalls.tool_calls!.slice(1) },
    weatherResults[1]!,
  ],
}

interface LoadedTemplate {
  model: LlamaModel
  /** tokenizer.chat_template as the GGUF carries it. */
  source: string
  /** tokenizer.ggml.tokens: a token's id is its index. */
  vocab: string[]
}

let python: string
let llama: Llama
const loaded = new Map<PublishedChatTemplate, LoadedTemplate>()

beforeAll(async () => {
  python = findPythonWithJinja()
  const paths = await Promise.all(TEMPLATES.map((template) => ensureTestModel({ layout: 'deepseek2', template })))
  const choice = await useVariantForModels(paths)
  llama = await sharedLlama(choice.folder)
  for (const [i, template] of TEMPLATES.entries()) {
    const { metadata } = await readGgufHeader(paths[i]!)
    const model = await llama.loadModel({ modelPath: paths[i]! })
    loaded.set(template, { model, source: metadata['tokenizer.chat_template'] as string, vocab: metadata['tokenizer.ggml.tokens'] as string[] })
  }
})

afterAll(async () => {
  await llama?.dispose()
})

function entry(template: PublishedChatTemplate): LoadedTemplate {
  const found = loaded.get(template)
  if (!found) throw new Error(`${template} model not loaded`)
  return found
}

/** The same conversation rendered by node-host and by jinja2, with the bos/eos node-host passes. */
function renderBoth({ model, source }: LoadedTemplate, messages: TemplateMessage[]) {
  const bosToken = model.tokens.bosString ?? ''
  const eosToken = model.tokens.eosString ?? ''
  return {
    nodeHost: compileChatTemplate(source).render(messages, { bosToken, eosToken, addGenerationPrompt: true }),
    jinja2: renderWithJinja2(python, { template: source, messages, bos_token: bosToken, eos_token: eosToken, add_generation_prompt: true }),
  }
}

const SPECIAL_TEXTS = Object.values(T).sort((a, b) => b.length - a.length)
const SPECIAL_SPLIT = new RegExp(`(${SPECIAL_TEXTS.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`)

/** Tokens built without parsing specials: each special text is its vocabulary id, the rest plain BPE. */
function referenceTokens({ model, vocab }: LoadedTemplate, text: string): Token[] {
  return text.split(SPECIAL_SPLIT).flatMap((piece, i) => {
    if (i % 2 === 1) return [vocab.indexOf(piece) as Token]
    return piece === '' ? [] : model.tokenize(piece, false)
  })
}

describe.each(TEMPLATES)('%s template', (template) => {
  it.each(Object.keys(CONVERSATIONS))('renders "%s" exactly as jinja2 does, to the same prompt tokens', (name) => {
    const loadedTemplate = entry(template)
    const { nodeHost, jinja2 } = renderBoth(loadedTemplate, CONVERSATIONS[name]!)
    expect(nodeHost).toBe(jinja2)
    const tokens = loadedTemplate.model.tokenize(nodeHost, true)
    expect(tokens).toEqual(referenceTokens(loadedTemplate, jinja2))
    expect(tokens[0]).toBe(loadedTemplate.model.tokens.bos)
  })

  it('tokenizes every DeepSeek special token as the one vocabulary token it is', () => {
    const { model, vocab } = entry(template)
    expect(model.tokens.bosString).toBe(T.bos)
    expect(model.tokens.eosString).toBe(T.eos)
    for (const text of Object.values(T)) expect(model.tokenize(text, true), text).toEqual([vocab.indexOf(text)])
    // CONTROL tokens are text unless specials are parsed; <think> is USER_DEFINED, so always one token.
    expect(model.tokenize(T.user, false).length).toBeGreaterThan(1)
    expect(model.tokenize(T.thinkStart, false)).toEqual([vocab.indexOf(T.thinkStart)])
  })

  it('joins system messages with a blank line, right after BOS', () => {
    const { nodeHost } = renderBoth(entry(template), CONVERSATIONS['two system messages']!)
    expect(nodeHost.startsWith(`${T.bos}Be brief.\n\nAnswer in English.${T.user}Why is the sky blue?${T.assistant}`)).toBe(true)
  })

  it('writes tool calls and their results in DeepSeek\'s format', () => {
    const { nodeHost } = renderBoth(entry(template), CONVERSATIONS['tool calls, two results, then the user']!)
    const call = (city: string) => `${T.toolCallBegin}function${T.toolSep}get_weather\n\`\`\`json\n{"city": "${city}"}\n\`\`\`${T.toolCallEnd}`
    // V3 puts "\n" between tool outputs, R1 does not; neither closes the outputs before a user turn.
    const outputSeparator = template === 'deepseek-v3' ? '\n' : ''
    const generationPrompt = template === 'deepseek-v3' ? T.assistant : `${T.assistant}${T.thinkStart}\n`
    expect(nodeHost).toBe(
      `${T.bos}You can look things up.${T.user}Weather in Paris and Tokyo?` +
        `${T.assistant}${T.toolCallsBegin}${call('Paris')}\n${call('Tokyo')}${T.toolCallsEnd}${T.eos}` +
        `${T.toolOutputsBegin}${T.toolOutputBegin}{"temp_c": 18}${T.toolOutputEnd}${outputSeparator}${T.toolOutputBegin}{"temp_c": 24}${T.toolOutputEnd}` +
        `${T.user}Which is warmer?${generationPrompt}`,
    )
  })
})

describe('reasoning in earlier turns', () => {
  const answered = `${T.user}What is 17 * 3?${T.assistant}`

  it('R1 drops it (keeps what follows </think>) and opens a think block for the reply', () => {
    const r1 = entry('deepseek-r1')
    const { nodeHost } = renderBoth(r1, CONVERSATIONS['assistant with reasoning']!)
    expect(nodeHost).toBe(`${T.bos}${answered}\n\nIt is 51.${T.eos}${T.user}And 17 * 4?${T.assistant}${T.thinkStart}\n`)
    const tokens = r1.model.tokenize(nodeHost, true)
    expect(tokens.slice(-3)).toEqual([r1.vocab.indexOf(T.assistant), r1.vocab.indexOf(T.thinkStart), ...r1.model.tokenize('\n')])
  })

  it('V3 keeps it verbatim and ends the prompt at <｜Assistant｜>', () => {
    const { nodeHost } = renderBoth(entry('deepseek-v3'), CONVERSATIONS['assistant with reasoning']!)
    expect(nodeHost).toBe(`${T.bos}${answered}<think>\n17 * 3 = 51.\n</think>\n\nIt is 51.${T.eos}${T.user}And 17 * 4?${T.assistant}`)
  })
})
