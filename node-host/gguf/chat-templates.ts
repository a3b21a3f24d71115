/**
 * The chat templates a generated test model can carry as tokenizer.chat_template: ChatML (vocab.ts),
 * or DeepSeek-V3's / DeepSeek-R1's as published, kept byte-exact in templates/ (see its README.md).
 * @example publishedChatTemplate('deepseek-r1').endsWith("{{'<｜Assistant｜><think>\\n'}}{% endif %}")
 */
import { readFileSync } from 'node:fs'
import { buildDeepseekVocab } from './deepseek-vocab.js'
import { buildTinyVocab, type TinyVocab } from './vocab.js'

export type TestChatTemplate = 'chatml' | 'deepseek-v3' | 'deepseek-r1'
export type PublishedChatTemplate = Exclude<TestChatTemplate, 'chatml'>

export function publishedChatTemplate(name: PublishedChatTemplate): string {
  return readFileSync(new URL(`./templates/${name}.jinja`, import.meta.url), 'utf8')
}

/** The vocabulary that goes with a template: DeepSeek's templates need DeepSeek's special tokens. */
export function vocabForTemplate(template: TestChatTemplate): TinyVocab {
  return template === 'chatml' ? buildTinyVocab() : buildDeepseekVocab(publishedChatTemplate(template))
}
