// The generator's DeepSeek flavour: published chat templates and DeepSeek's special tokens in the GGUF
// header, as real DeepSeek-V3/R1 GGUFs carry them. Header-only; chat-template-render.test.ts loads them.
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publishedChatTemplate, type PublishedChatTemplate, type TestChatTemplate } from '../../node-host/gguf/chat-templates.js'
import { DEEPSEEK_TOKENS } from '../../node-host/gguf/deepseek-vocab.js'
import { readGgufHeader } from '../../node-host/gguf/reader.js'
import { ensureTestModel, testModelFileName, type TestModelLayout } from '../../node-host/gguf/test-models.js'
import { CHATML_TEMPLATE, TokenType } from '../../node-host/gguf/vocab.js'

const TEMPLATES: PublishedChatTemplate[] = ['deepseek-v3', 'deepseek-r1']
const LAYOUTS: TestModelLayout[] = ['llama-moe', 'deepseek2']
const T = DEEPSEEK_TOKENS

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gguf-chat-templates-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('published templates', () => {
  it('are stored byte-exact (sha256 as in node-host/gguf/templates/README.md)', async () => {
    const sha = async (name: PublishedChatTemplate) =>
      createHash('sha256').update(await readFile(new URL(`../../node-host/gguf/templates/${name}.jinja`, import.meta.url))).digest('hex')
    expect(await sha('deepseek-v3')).toBe('3b8267e54b67df6500f231ffa969955cc9d26b3444a291ced4eb96ca7d3ca1ea')
    expect(await sha('deepseek-r1')).toBe('563b1ce7d61d50a9b4c7439a912a1116f095b712df5b5e4d3e1116049874eb64')
  })

  it('keep each model\'s newline spelling: V3 raw newlines inside its string literals, R1 \\n escapes', () => {
    const v3 = publishedChatTemplate('deepseek-v3')
    const r1 = publishedChatTemplate('deepseek-r1')
    expect(v3).toContain("ns.system_prompt + '\n\n' + message['content']")
    expect(v3).not.toContain('\\n')
    expect(r1).toContain("ns.system_prompt + '\\n\\n' + message['content']")
    expect(r1).not.toContain('\n')
    expect(v3.endsWith("{{'<｜Assistant｜>'}}{% endif %}")).toBe(true)
    expect(r1.endsWith("{{'<｜Assistant｜><think>\\n'}}{% endif %}")).toBe(true)
  })
})

describe.each(TEMPLATES)('%s test model', (template) => {
  it.each(LAYOUTS)('carries the template and DeepSeek\'s tokenizer settings in a %s GGUF', async (layout) => {
    const { metadata } = await readGgufHeader(await ensureTestModel({ layout, template, dir }))
    expect(metadata['tokenizer.chat_template']).toBe(publishedChatTemplate(template))
    const tokens = metadata['tokenizer.ggml.tokens'] as string[]
    expect(tokens.slice(0, 3)).toEqual([T.bos, T.eos, T.pad])
    expect(metadata['tokenizer.ggml.bos_token_id']).toBe(0)
    expect(metadata['tokenizer.ggml.eos_token_id']).toBe(1)
    expect(metadata['tokenizer.ggml.padding_token_id']).toBe(1)
    expect(metadata['tokenizer.ggml.add_bos_token']).toBe(true)
    expect(metadata['tokenizer.ggml.pre']).toBe('deepseek-v3')
    expect(metadata[`${String(metadata['general.architecture'])}.vocab_size`]).toBe(tokens.length)
  })

  it('types every <｜…｜> token CONTROL and <think>/</think> USER_DEFINED, as llama.cpp\'s converter does', async () => {
    const { metadata } = await readGgufHeader(await ensureTestModel({ layout: 'deepseek2', template, dir }))
    const tokens = metadata['tokenizer.ggml.tokens'] as string[]
    const types = metadata['tokenizer.ggml.token_type'] as number[]
    const typeOf = (text: string) => types[tokens.indexOf(text)]
    for (const text of Object.values(T)) {
      expect(tokens.filter((t) => t === text), text).toHaveLength(1)
      expect(typeOf(text), text).toBe(text.startsWith('<｜') ? TokenType.CONTROL : TokenType.USER_DEFINED)
    }
    const specials = new Set<string>(Object.values(T))
    expect(types.filter((type, id) => !specials.has(tokens[id]!) && type !== TokenType.NORMAL)).toEqual([])
  })
})

describe('template option', () => {
  it('defaults to ChatML with the file names ChatML models always had', async () => {
    for (const layout of LAYOUTS) {
      const name = testModelFileName({ layout })
      expect(testModelFileName({ layout, template: 'chatml' })).toBe(name)
      expect(name).toMatch(new RegExp(`^${layout}-tiny-q8_0-s1-[0-9a-f]{12}\\.gguf$`))
    }
    const { metadata } = await readGgufHeader(await ensureTestModel({ layout: 'llama-moe', dir }))
    expect(metadata['tokenizer.chat_template']).toBe(CHATML_TEMPLATE)
  })

  it('is part of the file name and cache key', () => {
    const templates: TestChatTemplate[] = ['chatml', ...TEMPLATES]
    const names = new Set(templates.map((template) => testModelFileName({ layout: 'deepseek2', template })))
    expect(names.size).toBe(3)
    expect(testModelFileName({ layout: 'deepseek2', template: 'deepseek-r1' })).toMatch(/^deepseek2-tiny-q8_0-s1-deepseek-r1-[0-9a-f]{12}\.gguf$/)
  })
})
