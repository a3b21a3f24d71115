/**
 * The Worker in real workerd, against a real sqld and the loopback fakes (started in Node by
 * the project's global setups; their URLs are the Worker's bindings).
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { WORKER_ADMIN_KEY, WORKER_LOCAL_MODEL } from './constants.js'
import { jsonRequest, teamWithKey, usageRow, workerFetch } from './support.js'

interface ChatCompletion { choices: Array<{ message: { content: string } }> }

/** The `content` deltas of an SSE body, and whether it ended with [DONE]. */
function readSse(text: string): { content: string; done: boolean } {
  let content = ''
  let done = false
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ')) continue
    const data = line.slice('data: '.length)
    if (data === '[DONE]') { done = true; continue }
    const chunk = JSON.parse(data) as { choices: Array<{ delta?: { content?: string } }> }
    content += chunk.choices[0]?.delta?.content ?? ''
  }
  return { content, done }
}

describe('Worker: admin, auth and errors', () => {
  it('answers /health with both backends configured from bindings', async () => {
    const res = await workerFetch('/health')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok', backends: ['hosted', 'local'] })
  })

  it('creates a team and key through the admin API, and lists hosted and local models', async () => {
    const { key } = await teamWithKey('hosted')
    const res = await workerFetch('/v1/models', jsonRequest(key, 'GET'))
    expect(res.status).toBe(200)
    const ids = (await res.json<{ data: Array<{ id: string }> }>()).data.map((m) => m.id)
    expect(ids).toEqual(expect.arrayContaining(['deepseek-flash', 'deepseek-chat', WORKER_LOCAL_MODEL]))
  })

  it('rejects an unknown key with 401', async () => {
    const res = await workerFetch('/v1/chat/completions', jsonRequest('mgw_not_a_real_key_000000000000', 'POST', { model: 'deepseek-flash', messages: [] }))
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { type: expect.any(String) } })
  })

  it('serves a burst of concurrent database-bound requests without hanging', async () => {
    // Each unknown key is a database lookup; more than @libsql/client's default queue of 20.
    const statuses = await Promise.all(Array.from({ length: 60 }, async () => (await workerFetch('/v1/models', jsonRequest(`mgw_unknown_${crypto.randomUUID()}`, 'GET'))).status))
    expect(statuses.filter((s) => s !== 401)).toEqual([])
  })

  it('rejects a non-admin key on /admin', async () => {
    const { key } = await teamWithKey('hosted')
    const res = await workerFetch('/admin/teams', jsonRequest(key, 'GET'))
    expect(res.status).toBe(403)
  })

  it('answers 400 to a body that is not JSON, and still leaves a usage row', async () => {
    const { key, teamId } = await teamWithKey('hosted')
    const res = await workerFetch('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"model": ' })
    expect(res.status).toBe(400)
    const row = await usageRow(res.headers.get('x-request-id')!)
    expect(row).toMatchObject({ teamId, status: 400, backend: null })
  })

  it('admin key is the bound ADMIN_KEY secret', async () => {
    const res = await workerFetch('/admin/teams', jsonRequest(WORKER_ADMIN_KEY, 'GET'))
    expect(res.status).toBe(200)
  })
})

describe('Worker: chat completions with usage written via waitUntil', () => {
  it('serves a hosted non-streamed completion and the usage row lands in sqld', async () => {
    const { key, teamId } = await teamWithKey('hosted')
    const res = await workerFetch('/v1/chat/completions', jsonRequest(key, 'POST', { model: 'deepseek-flash', messages: [{ role: 'user', content: 'hello from workerd' }] }))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-moe-backend')).toBe('hosted')
    expect((await res.json<ChatCompletion>()).choices[0]?.message.content).toBe('This is the fake DeepSeek answer.')
    const row = await usageRow(res.headers.get('x-request-id')!)
    expect(row).toMatchObject({ teamId, backend: 'hosted', status: 200, streamed: false, usageEstimated: false, requestedModel: 'deepseek-flash' })
    expect(row.promptTokens).toBeGreaterThan(0)
    expect(row.costNanoUsd).toBeGreaterThan(0)
  })

  it('streams a hosted completion through and meters it', async () => {
    const { key, teamId } = await teamWithKey('hosted')
    const res = await workerFetch('/v1/chat/completions', jsonRequest(key, 'POST', { model: 'deepseek-flash', stream: true, messages: [{ role: 'user', content: 'stream it' }] }))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    expect(readSse(await res.text())).toEqual({ content: 'This is the fake DeepSeek answer.', done: true })
    const row = await usageRow(res.headers.get('x-request-id')!)
    expect(row).toMatchObject({ teamId, backend: 'hosted', status: 200, streamed: true, usageEstimated: false })
    expect(row.completionTokens).toBeGreaterThan(0)
    expect(row.ttftMs).not.toBeNull()
  })

  it('sends local traffic to node-host, signed (it answers 401 otherwise), non-streamed and streamed', async () => {
    const { key, teamId } = await teamWithKey('local')
    const plain = await workerFetch('/v1/chat/completions', jsonRequest(key, 'POST', { model: WORKER_LOCAL_MODEL, messages: [{ role: 'user', content: 'hi box' }] }))
    expect(plain.status).toBe(200)
    expect(plain.headers.get('x-moe-backend')).toBe('local')
    expect((await plain.json<ChatCompletion>()).choices[0]?.message.content).toBe('Local answer from the box.')
    expect(await usageRow(plain.headers.get('x-request-id')!)).toMatchObject({ teamId, backend: 'local', status: 200, cacheHitTokens: 3, costNanoUsd: 0 })

    const streamed = await workerFetch('/v1/chat/completions', jsonRequest(key, 'POST', { model: WORKER_LOCAL_MODEL, stream: true, messages: [{ role: 'user', content: 'hi box' }] }))
    expect(streamed.headers.get('x-moe-backend')).toBe('local')
    expect(readSse(await streamed.text())).toEqual({ content: 'Local answer from the box.', done: true })
    expect(await usageRow(streamed.headers.get('x-request-id')!)).toMatchObject({ teamId, backend: 'local', streamed: true, status: 200 })
  })

  it('the fake node-host really checks signatures: an unsigned request from workerd gets 401', async () => {
    const res = await fetch(`${env.NODE_HOST_URL}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: WORKER_LOCAL_MODEL, messages: [] }) })
    expect(res.status).toBe(401)
    await res.body?.cancel()
  })
})
