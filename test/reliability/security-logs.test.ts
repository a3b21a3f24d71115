/**
 * Keys and prompts never reach a log. Every log line of a gateway and of a real node-host is
 * captured, plus the CLI's output for listings, while keys of every kind are used and
 * prompts carry a unique marker; then the captured text is searched for each secret.
 * Bound: ~20 s (tiny model, a few dozen requests).
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/moe-gateway.js'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { createJsonLogger } from '../../node-host/log.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import { jsonLogger } from '../../src/log.js'
import type { RunningGateway } from '../../src/node.js'
import { DEFAULT_FAKE_API_KEY, startFakeDeepSeek, type FakeDeepSeek } from '../fakes/deepseek.js'
import { ADMIN_KEY, adminCall, startTestGateway, teamWithKey } from '../support/gateway.js'

const SECRET = 'node-host-secret-not-for-logs'
const MARKER = 'prompt-marker-7f3a9c-never-log-me'
const captured: string[] = []
let deepseek: FakeDeepSeek
let host: NodeHost
let gw: RunningGateway

beforeAll(async () => {
  deepseek = await startFakeDeepSeek()
  host = await startNodeHost({ model: await ensureTestModel({ layout: 'llama-moe' }), modelName: 'tiny', secret: SECRET, threads: 1, parallel: 2, log: createJsonLogger((l) => captured.push(l)) })
  gw = await startTestGateway({
    env: { DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY, DEEPSEEK_BASE_URL: deepseek.url, NODE_HOST_URL: host.url, NODE_HOST_SECRET: SECRET, LOCAL_MODELS: 'tiny' },
    log: jsonLogger((l) => captured.push(l)),
  })
})

afterAll(async () => {
  await gw?.close()
  await host?.close()
  await deepseek?.close()
})

async function chat(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'deepseek-flash', max_tokens: 8, messages: [{ role: 'user', content: `${MARKER} hello` }], ...body }),
  })
  await res.arrayBuffer()
  return res.status
}

describe('logs', () => {
  it('never contain a key, a key hash, the node-host secret or prompt text', async () => {
    const { key, keyId, team } = await teamWithKey(gw, { mode: 'local-first' })
    const secrets = [key, ADMIN_KEY, SECRET, DEFAULT_FAKE_API_KEY]
    // Served locally, streamed and not; served by hosted after a local failure; upstream errors; refusals.
    expect(await chat(key, { model: 'tiny' })).toBe(200)
    expect(await chat(key, { model: 'tiny', stream: true })).toBe(200)
    expect(await chat(key, { fake_behavior: { status: 500 } }, { 'x-moe-backend': 'hosted' })).toBe(500)
    expect(await chat(key, { fake_behavior: { status: 422 } }, { 'x-moe-backend': 'hosted' })).toBe(422)
    expect(await chat(key, { messages: 'not an array' })).toBe(400)
    const invalid = `mgw_${'x'.repeat(43)}`
    secrets.push(invalid)
    expect(await chat(invalid, {})).toBe(401)
    // A rotated key, then its replacement, then a revoked key.
    const rotated = (await (await adminCall(gw, 'POST', `/admin/keys/${keyId}/rotate`, { grace_seconds: 60 })).json()) as { key: string; id: string }
    secrets.push(rotated.key)
    expect(await chat(rotated.key, { model: 'tiny' })).toBe(200)
    expect((await adminCall(gw, 'DELETE', `/admin/keys/${rotated.id}`)).status).toBe(200)
    expect(await chat(rotated.key, {})).toBe(401)
    // Admin listings through the CLI print prefixes only.
    const out: string[] = []
    const code = await runCli(['keys', 'list', '--team', team, '--url', gw.url, '--admin-key', ADMIN_KEY], { out: (l) => out.push(l), err: (l) => out.push(l), env: {} })
    expect(code).toBe(0)
    captured.push(...out)
    await gw.writer.flush()

    const text = captured.join('\n')
    expect(captured.length).toBeGreaterThan(5) // the capture itself works: there were log lines
    for (const secret of secrets) {
      expect(text.includes(secret), 'a secret in the logs').toBe(false)
      expect(text.includes(createHash('sha256').update(secret).digest('hex')), 'a key hash in the logs').toBe(false)
    }
    expect(text.includes(MARKER), 'prompt text in the logs').toBe(false)
  })
})
