/** The `node-host` binary as an operator runs it. */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { main, parseServeArgs } from '../../node-host/cli.js'
import { freePort, waitFor, waitForHttp } from '../support/net.js'
import { TEST_SECRET } from './node-host-helpers.js'

const BIN = fileURLToPath(new URL('../../bin/node-host.js', import.meta.url))
const children: ChildProcess[] = []

function run(args: string[], env: Record<string, string | undefined> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NODE_HOST_SECRET: undefined, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  const output = { stdout: '', stderr: '' }
  child.stdout!.on('data', (d: Buffer) => (output.stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output.stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output, exited }
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
})

describe('node-host CLI', () => {
  it('serves a model with the secret from the environment, shows load progress, and stops cleanly on SIGTERM', async () => {
    const model = await ensureTestModel({ layout: 'llama-moe' })
    const port = await freePort()
    const { child, output, exited } = run(['serve', '--model', model, '--port', String(port), '--threads', '1', '--parallel', '1', '--context', '256'], { NODE_HOST_SECRET: TEST_SECRET })
    await waitForHttp(`http://127.0.0.1:${port}/health`, 20_000)
    await waitFor(() => output.stderr.includes('ready: serving'), 5000, 'ready line')
    expect(output.stderr).toMatch(/loading model: 100%/)
    expect(output.stderr).not.toContain(TEST_SECRET)
    expect((await fetch(`http://127.0.0.1:${port}/v1/models`)).status).toBe(401)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  const captureIo = () => {
    const lines = { out: [] as string[], err: [] as string[] }
    return { lines, io: { out: (l: string) => lines.out.push(l), err: (l: string) => lines.err.push(l), stopSignal: () => new Promise<string>(() => {}) } }
  }

  it('refuses to start without a secret', async () => {
    const saved = process.env.NODE_HOST_SECRET
    delete process.env.NODE_HOST_SECRET
    try {
      const { lines, io } = captureIo()
      expect(await main(['serve', '--model', 'x.gguf'], io)).toBe(2)
      expect(lines.err.join('\n')).toMatch(/NODE_HOST_SECRET/)
    } finally {
      if (saved !== undefined) process.env.NODE_HOST_SECRET = saved
    }
  })

  it('wires the inspect subcommand', async () => {
    const { lines, io } = captureIo()
    expect(await main(['inspect', '--help'], io)).toBe(0)
    expect(lines.out.join('\n')).toMatch(/usage: node-host inspect/)
  })

  it('parses flags, with defaults and the environment', () => {
    expect(parseServeArgs(['--model', 'm.gguf'], { NODE_HOST_SECRET: 's' })).toMatchObject({ model: 'm.gguf', secret: 's', port: 8081, host: '127.0.0.1', parallel: 4, contextSize: 4096, maxQueue: 16, keepAliveMs: 15000, metricsOpen: false })
    expect(parseServeArgs(['--upstream', 'http://u', '--metrics-open', '--max-queue', '0', '--model-name', 'pub'], {})).toMatchObject({ upstream: 'http://u', metricsOpen: true, maxQueue: 0, modelName: 'pub' })
    expect(() => parseServeArgs(['--model', 'a', '--upstream', 'b'], {})).toThrow(/exactly one/)
    expect(() => parseServeArgs(['--model', 'a', '--threads', 'two'], {})).toThrow(/threads/)
    expect(() => parseServeArgs(['--model', 'a', '--bogus'], {})).toThrow()
  })

  it('takes --batching from the flag, else NODE_HOST_BATCHING, else auto, and refuses other values', () => {
    expect(parseServeArgs(['--model', 'a'], {}).batching).toBe('auto')
    expect(parseServeArgs(['--model', 'a'], { NODE_HOST_BATCHING: 'serial' }).batching).toBe('serial')
    expect(parseServeArgs(['--model', 'a', '--batching', 'batched'], { NODE_HOST_BATCHING: 'serial' }).batching).toBe('batched')
    expect(() => parseServeArgs(['--model', 'a', '--batching', 'sometimes'], {})).toThrow(/--batching must be auto, batched or serial/)
  })
})
