import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AdminHealthBody } from '../../src/admin/health.js'
import { DEFAULT_FAKE_API_KEY } from '../fakes/deepseek.js'
import { spawnChildServer, type ChildServer } from '../support/child-process.js'
import { waitFor } from '../support/net.js'

const ROOT = resolve(import.meta.dirname, '../..')
// tsx's loader in this process, not its CLI: the CLI relays SIGTERM through a child and SIGKILLs it when
// the child is slow (>60 ms) to acknowledge, which a loaded machine is, so the usage flush never ran.
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href
const ADMIN_KEY = 'mgw_start_supervisor_admin_key_0123456789'
let deepseek: ChildServer | undefined
let start: ChildProcess | undefined
const nodeHostPids = new Set<number>()

beforeAll(async () => {
  deepseek = await spawnChildServer('test/support/fake-deepseek-process.ts', [])
})

afterAll(async () => {
  start?.kill('SIGKILL')
  // A SIGKILLed start script cannot stop its node-host (its own process group): do it here.
  for (const pid of nodeHostPids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await deepseek?.stop()
})

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
}

const pidsIn = (text: string) => [...text.matchAll(/^node-host pid (\d+)$/gm)].map((m) => Number(m[1]))
const listeningUrlsIn = (text: string) => [...text.matchAll(/^\[node-host\] node-host listening on (http:\/\/\S+) /gm)].map((m) => m[1])

describe('npm start supervises node-host as its own process', () => {
  it('keeps the gateway serving (hosted) while a SIGKILLed node-host restarts on the same URL, then serves local again; SIGTERM stops both', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'moe-start-supervisor-'))
    start = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'scripts/start.ts')], {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: '0',
        ADMIN_KEY,
        DEEPSEEK_API_KEY: DEFAULT_FAKE_API_KEY,
        DEEPSEEK_BASE_URL: deepseek!.words[0],
        HEALTH_PROBE_INTERVAL_MS: '200',
        // The default 10 s cooldown would only make the test wait longer for local to be tried again.
        BREAKER_COOLDOWN_MS: '500',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    start.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
      for (const pid of pidsIn(stderr)) nodeHostPids.add(pid)
    })
    const url = await waitFor(() => /moe-gateway listening on (http:\/\/\S+)/.exec(stderr)?.[1], 60_000, 'gateway start')
    const key = /Created team "demo" with a key \(shown once\):\s+(mgw_\S+)/.exec(stderr)?.[1]
    expect(key).toBeDefined()
    const [firstPid] = pidsIn(stderr)
    expect(firstPid).toBeGreaterThan(0)
    expect(firstPid).not.toBe(start.pid)

    const client = new OpenAI({ apiKey: key!, baseURL: `${url}/v1`, maxRetries: 0 })
    // deepseek-flash: a model both backends serve, so local-first can fall back (node-host serves any name).
    const ask = () => client.chat.completions.create({ model: 'deepseek-flash', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 }).withResponse()
    expect((await ask()).response.headers.get('x-moe-backend')).toBe('local')

    process.kill(firstPid!, 'SIGKILL')
    await waitFor(() => stderr.includes('node-host exited (signal SIGKILL); restarting in 1 s'), 10_000, 'the exit line')
    const killedAt = Date.now()

    // The first restart waits a second: these run while nothing listens on node-host's port.
    const { data, response } = await ask()
    expect(response.headers.get('x-moe-backend')).toBe('hosted')
    expect(response.headers.get('x-moe-fallback-reason')).toMatch(/^local:/)
    expect(data.choices[0]?.message.content).toBeTruthy()
    const health = await fetch(`${url}/admin/health`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    expect(health.status).toBe(200)
    const [host] = ((await health.json()) as AdminHealthBody).local.hosts
    expect(host).toBeDefined()
    expect(!host!.available || host!.last_error !== null).toBe(true)

    const secondPid = await waitFor(() => pidsIn(stderr)[1], 15_000, 'the restarted node-host')
    expect(secondPid).not.toBe(firstPid)
    const servedLocal = await waitFor(
      async () => ((await ask()).response.headers.get('x-moe-backend') === 'local' ? Date.now() : 0),
      30_000,
      'local to serve again',
    )
    const urls = listeningUrlsIn(stderr)
    expect(urls).toHaveLength(2)
    expect(urls[1]).toBe(urls[0])
    expect(servedLocal - killedAt).toBeLessThan(30_000)

    // Progress is printed a line at a time, so a log file or CI shows it (no carriage returns).
    expect(stderr).toMatch(/^\[node-host\] loading model: \d+%$/m)
    expect(stderr).not.toContain('\r')

    const exited = new Promise<number | null>((r) => start!.once('exit', (code) => r(code)))
    start.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(isRunning(firstPid!)).toBe(false)
    expect(isRunning(secondPid)).toBe(false)
    expect(stderr.match(/restarting in/g)).toHaveLength(1)
  }, 120_000)
})
