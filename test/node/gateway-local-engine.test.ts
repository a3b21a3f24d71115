/**
 * The local path end to end with real parts: openai SDK -> gateway -> signed request ->
 * node-host -> llama.cpp on a tiny generated MoE model, and the usage row it leaves.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import type { RunningGateway } from '../../src/node.js'
import { startTestGateway, teamWithKey, usageRowsOf } from '../support/gateway.js'
import { waitFor } from '../support/net.js'

const SECRET = 'gateway-to-node-host-secret'
// Never completes, so random weights cannot end a long answer early.
const LONG_GRAMMAR = 'root ::= [a-z] root'
let host: NodeHost
let gw: RunningGateway

beforeAll(async () => {
  host = await startNodeHost({ model: await ensureTestModel({ layout: 'deepseek2' }), modelName: 'tiny-moe', secret: SECRET, threads: 1, parallel: 2, contextSize: 1024 })
  gw = await startTestGateway({ env: { NODE_HOST_URL: host.url, NODE_HOST_SECRET: SECRET, LOCAL_MODELS: 'tiny-moe' } })
})

afterAll(async () => {
  await gw?.close()
  await host?.close()
})

async function health(): Promise<{ slots: { busy: number } }> {
  return (await (await fetch(`${host.url}/health`)).json()) as { slots: { busy: number } }
}

describe('gateway -> real node-host -> llama.cpp', () => {
  it('streams through the SDK and records the engine\'s own token counts, including reused prefix', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local' })
    const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const messages = [{ role: 'system' as const, content: 'You are a helpful assistant with a long shared system prompt.' }, { role: 'user' as const, content: 'first' }]
    const usages: OpenAI.CompletionUsage[] = []
    for (const content of ['first', 'second']) {
      const stream = await client.chat.completions.create({ model: 'tiny-moe', messages: [messages[0]!, { role: 'user', content }], max_tokens: 12, stream: true, stream_options: { include_usage: true }, seed: 1 })
      for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage)
    }
    const rows = await usageRowsOf(gw, teamId)
    expect(rows).toHaveLength(2)
    for (const [i, row] of rows.entries()) {
      expect(row).toMatchObject({ backend: 'local', upstreamModel: 'tiny-moe', streamed: true, status: 200, usageEstimated: false, costNanoUsd: 0 })
      expect(row.promptTokens).toBe(usages[i]!.prompt_tokens)
      expect(row.completionTokens).toBe(usages[i]!.completion_tokens)
      expect(row.ttftMs).not.toBeNull()
    }
    // The second turn shares the system prompt: node-host reuses that prefix and the row says so.
    expect(rows[1]!.cacheHitTokens).toBeGreaterThan(0)
    expect(rows[1]!.cacheHitTokens + rows[1]!.cacheMissTokens).toBe(rows[1]!.promptTokens)
  })

  it('frees the engine slot when the client leaves mid-stream, and records what was generated', async () => {
    const { key, teamId } = await teamWithKey(gw, { mode: 'local' })
    const abort = new AbortController()
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-moe', stream: true, max_tokens: 100_000, grammar: LONG_GRAMMAR, messages: [{ role: 'user', content: 'go on forever' }] }),
      signal: abort.signal,
    })
    const reader = res.body!.getReader()
    let text = ''
    // Five non-empty content deltas (the first delta carries an empty content).
    while ((text.match(/"content":"[^"]/g) ?? []).length < 5) text += new TextDecoder().decode((await reader.read()).value)
    expect((await health()).slots.busy).toBe(1)
    abort.abort()
    await waitFor(async () => (await health()).slots.busy === 0, 10_000, 'slot freed')
    const [row] = await waitFor(async () => {
      const rows = await usageRowsOf(gw, teamId)
      return rows.length ? rows : undefined
    })
    expect(row).toMatchObject({ status: 499, clientAborted: true, backend: 'local' })
    expect(row!.completionTokens).toBeGreaterThanOrEqual(5)
  })
})
