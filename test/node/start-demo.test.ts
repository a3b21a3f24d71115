import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import OpenAI from 'openai'
import { afterAll, describe, expect, it } from 'vitest'
import { createClient } from '@libsql/client'
import { waitFor } from '../support/net.js'

const ROOT = resolve(import.meta.dirname, '../..')
// tsx's loader in this process, not its CLI: the CLI relays SIGTERM through a child and SIGKILLs it when
// the child is slow (>60 ms) to acknowledge, which a loaded machine is, so the usage flush never ran.
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href
let child: ChildProcess | undefined

afterAll(() => {
  child?.kill('SIGKILL')
})

describe('npm start (the embedded default)', () => {
  it('runs gateway + demo node-host, answers a local chat request with the printed key, and flushes usage on SIGTERM', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'moe-start-'))
    child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'scripts/start.ts')], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    const url = await waitFor(() => /moe-gateway listening on (http:\/\/\S+)/.exec(stderr)?.[1], 60_000, 'gateway start')
    // The dashboard is served by the same process, sign-in first.
    expect(stderr).toContain(`Usage dashboard: ${url}/dashboard`)
    const signIn = await fetch(`${url}/dashboard/sign-in`)
    expect(signIn.status).toBe(200)
    expect(await signIn.text()).toContain('data-testid="sign-in-form"')
    const key = /Created team "demo" with a key \(shown once\):\s+(mgw_\S+)/.exec(stderr)?.[1]
    expect(key).toBeDefined()
    const client = new OpenAI({ apiKey: key!, baseURL: `${url}/v1`, maxRetries: 0 })
    const { data, response } = await client.chat.completions.create({ model: 'moe-demo', messages: [{ role: 'user', content: 'prompt-text-that-must-not-be-logged' }], max_tokens: 8 }).withResponse()
    expect(response.headers.get('x-moe-backend')).toBe('local')
    expect(data.usage?.completion_tokens).toBeGreaterThan(0)
    expect(data.usage?.completion_tokens).toBeLessThanOrEqual(8)
    expect(stderr).not.toContain('prompt-text-that-must-not-be-logged') // no prompt text in logs
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    const db = createClient({ url: `file:${join(cwd, 'data/gateway.db')}` })
    const rows = await db.execute('select backend, completion_tokens, status from usage')
    db.close()
    expect(rows.rows).toHaveLength(1)
    expect(rows.rows[0]).toMatchObject({ backend: 'local', status: 200, completion_tokens: data.usage!.completion_tokens })
  }, 120_000)
})
