/**
 * Continuous batching must be fair: with --parallel 4 and four concurrent long streams, each stream
 * gets its first content token before any stream finishes. Before the batch gate, node-llama-cpp kept
 * its context lock while any sequence had a decode queued, so a fourth request (whose sequence first
 * erases its old reply) waited until the other three were done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import { postChat, readSse, TEST_SECRET, testKey } from './node-host-helpers.js'

const PARALLEL = 4
const MAX_TOKENS = 40
/** Never complete, so never allows end-of-generation: runs until max_tokens. */
const LONG_GRAMMAR = 'root ::= [a-z] root'
const messages = [{ role: 'user', content: 'Write letters.' }]

type Milestone = { stream: number; kind: 'first-content' | 'finished' }

async function streamRecording(host: NodeHost, key: CryptoKey, stream: number, log: Milestone[]): Promise<void> {
  const body = { messages, grammar: LONG_GRAMMAR, max_tokens: MAX_TOKENS, seed: stream, stream: true }
  const res = await postChat(host.url, key, body)
  expect(res.status).toBe(200)
  let sawContent = false
  await readSse(res, (item) => {
    if (!('data' in item) || item.data === '[DONE]') return
    const chunk = JSON.parse(item.data) as { choices: Array<{ delta?: { content?: string }; finish_reason: string | null }> }
    const choice = chunk.choices[0]
    if (!sawContent && choice?.delta?.content) {
      sawContent = true
      log.push({ stream, kind: 'first-content' })
    }
    if (choice?.finish_reason) log.push({ stream, kind: 'finished' })
  })
}

// Batched (auto starts batched) and one at a time (node-host's choice where batches cost more).
describe.each(['auto', 'serial'] as const)('continuous batching fairness (real engine, demo llama-moe, parallel 4, --batching %s)', (batching) => {
  let host: NodeHost
  let key: CryptoKey

  beforeAll(async () => {
    key = await testKey()
    const model = await ensureTestModel({ layout: 'llama-moe', size: 'demo' })
    host = await startNodeHost({ model, secret: TEST_SECRET, threads: 1, parallel: PARALLEL, contextSize: 512, maxQueue: PARALLEL, keepAliveMs: 50, batching })
  })
  afterAll(() => host?.close())

  it('gives all four streams their first token before any of them finishes', async () => {
    // Warm-up: every sequence then holds an old reply, which a new request must erase first (the
    // erase takes node-llama-cpp's context lock, the step that used to starve the fourth stream).
    await Promise.all(Array.from({ length: PARALLEL }, (_, i) => streamRecording(host, key, 100 + i, [])))

    for (let round = 0; round < 3; round++) {
      const log: Milestone[] = []
      await Promise.all(Array.from({ length: PARALLEL }, (_, i) => streamRecording(host, key, round * 10 + i, log)))
      const firstFinish = log.findIndex((m) => m.kind === 'finished')
      const firstContents = log.filter((m) => m.kind === 'first-content')
      expect(firstContents).toHaveLength(PARALLEL)
      const lastFirstContent = log.lastIndexOf(firstContents.at(-1)!)
      expect(lastFirstContent, `round ${round}: ${JSON.stringify(log)}`).toBeLessThan(firstFinish)
    }
  }, 120_000)
})
