/**
 * Batched or one-at-a-time decode: the chooser keeps whichever mode measures cheaper per token, and the
 * gate releases one member at a time in serial mode. Unit tests drive the chooser with step costs;
 * the gate tests time real steps (members that take known times to come back); the last test runs
 * the real engine and reads the choice from /health.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBatchGate } from '../../node-host/engine/batch-gate.js'
import { createDecodeModeChooser, MEASUREMENT, type DecodeMode, type DecodeModeChooser, type ModeChange } from '../../node-host/engine/decode-mode.js'
import { ensureTestModel } from '../../node-host/gguf/test-models.js'
import { startNodeHost, type NodeHost } from '../../node-host/serve.js'
import { postChat, readSse, TEST_SECRET, testKey } from './node-host-helpers.js'

/** Runs `steps` steps of `streams` streams, each costing `costPerToken(mode, step)` per token. */
function drive(chooser: DecodeModeChooser, streams: number, steps: number, costPerToken: (mode: DecodeMode, step: number) => number): DecodeMode[] {
  const modes: DecodeMode[] = []
  for (let i = 0; i < steps; i++) {
    const mode = chooser.next(streams)
    modes.push(mode)
    const tokens = mode === 'batched' ? streams : 1
    chooser.record(mode, tokens, costPerToken(mode, i) * tokens)
  }
  return modes
}

describe('decode mode chooser', () => {
  it('keeps a fixed policy and measures nothing', () => {
    for (const policy of ['batched', 'serial'] as const) {
      const chooser = createDecodeModeChooser(policy)
      expect(drive(chooser, 3, 50, (m) => (m === policy ? 10 : 1)).every((m) => m === policy)).toBe(true)
      expect(chooser.describe()).toEqual({ policy, chosen: {} })
    }
  })

  it('measures both modes in alternating blocks, then keeps the cheaper one', () => {
    const changes: ModeChange[] = []
    const chooser = createDecodeModeChooser('auto', (c) => changes.push(c))
    const modes = drive(chooser, 2, 300, (m) => (m === 'batched' ? 3.6 : 2.5))
    // Measuring starts batched and alternates in blocks: both modes appear early.
    expect(modes.slice(0, 10)).toEqual([...Array(5).fill('batched'), ...Array(5).fill('serial')])
    expect(modes.slice(-200).every((m) => m === 'serial')).toBe(true)
    expect(changes).toEqual([{ mode: 'serial', streams: 2, batchedMsPerToken: 3.6, serialMsPerToken: 2.5 }])
    expect(chooser.describe()).toEqual({ policy: 'auto', chosen: { 2: 'serial' } })
  })

  it('stays batched where a batch is cheaper per token, and when serial wins by less than the margin', () => {
    for (const serialCost of [4, 2.9]) {
      const chooser = createDecodeModeChooser('auto')
      expect(drive(chooser, 4, 300, (m) => (m === 'batched' ? 3 : serialCost)).slice(-200).every((m) => m === 'batched')).toBe(true)
      expect(chooser.describe().chosen).toEqual({ 4: 'batched' })
    }
  })

  it('does not count the first step of a block (a change of batch shape)', () => {
    const decidedAt: number[] = []
    let step = 0
    const chooser = createDecodeModeChooser('auto', () => decidedAt.push(step))
    for (; step < 100; step++) {
      const mode = chooser.next(2)
      chooser.record(mode, mode === 'batched' ? 2 : 1, 1)
    }
    // Each mode needs `samples` counted steps at block - 1 per block: the decision comes at the end of
    // the last serial block's last needed step, never earlier.
    const { samples, block } = MEASUREMENT
    const blocksPerMode = Math.ceil(samples / (block - 1))
    const lastBlockSteps = samples - (blocksPerMode - 1) * (block - 1) + 1
    expect(decidedAt).toEqual([(2 * blocksPerMode - 1) * block + lastBlockSteps - 1])
  })

  it('takes no sample from a lone stream\'s step between steps of two', () => {
    const chooser = createDecodeModeChooser('auto')
    for (let i = 0; i < 100; i++) {
      const mode = chooser.next(2)
      chooser.record(mode, mode === 'batched' ? 2 : 1, (mode === 'batched' ? 2 : 2.5) * (mode === 'batched' ? 2 : 1))
      // One stream alone (the other's prompt being admitted): fast, and no sample of serial at 2 streams.
      chooser.record(chooser.next(1), 1, 0.01)
    }
    expect(chooser.describe().chosen).toEqual({ 2: 'batched' })
  })

  it('ignores a batch short of a stream, keeps each stream count apart, and measures again later', () => {
    const chooser = createDecodeModeChooser('auto')
    for (let i = 0; i < 40; i++) chooser.record(chooser.next(2), 1, 0.01) // serial-cheap only if short batches counted
    expect(chooser.describe().chosen).toEqual({})
    drive(chooser, 2, 100, (m) => (m === 'batched' ? 3.6 : 2.5))
    drive(chooser, 3, 100, (m) => (m === 'batched' ? 2 : 2.5))
    expect(chooser.describe().chosen).toEqual({ 2: 'serial', 3: 'batched' })
    // The machine changes: batching becomes cheaper at 2 streams; noticed after the next measurement.
    const modes = drive(chooser, 2, 1200, (m) => (m === 'batched' ? 1 : 2.5))
    expect(modes.slice(-100).every((m) => m === 'batched')).toBe(true)
    expect(chooser.describe().chosen).toEqual({ 2: 'batched', 3: 'batched' })
  })
})

const tick = () => new Promise((r) => setTimeout(r, 2))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('batch gate, serial mode', () => {
  it('releases one member at a time in arrival order, and puts the others on hold', async () => {
    const gate = createBatchGate(createDecodeModeChooser('serial'))
    const a = gate.join(0)
    const b = gate.join(1)
    const held: string[] = []
    const released: string[] = []
    void a.ready(() => held.push('a')).then(() => released.push('a'))
    void b.ready(() => held.push('b')).then(() => released.push('b'))
    await tick()
    expect(released).toEqual(['a'])
    expect(held).toEqual(['b'])
    // a is decoding; b goes only once a is back (asking for its next token).
    void a.ready(() => held.push('a')).then(() => released.push('a'))
    await tick()
    expect(released).toEqual(['a', 'b'])
    expect(held).toEqual(['b', 'a'])
    // a member that leaves while decoding lets the next one go
    b.leave()
    await tick()
    expect(released).toEqual(['a', 'b', 'a'])
  })

  it('times real steps and chooses the mode that gives more tokens per second', async () => {
    for (const [batchedStepMs, serialStepMs, expected] of [
      [12, 2, 'serial'],
      [4, 8, 'batched'],
    ] as const) {
      const gate = createBatchGate()
      const members = [gate.join(0), gate.join(1)]
      const batchedNow = () => gate.batching().chosen[2]
      let inFlight = 0
      // Each member "decodes" for as long as its step takes: a batch of two costs batchedStepMs, one alone serialStepMs.
      const loop = async (m: (typeof members)[number]) => {
        for (let step = 0; step < 60 && !batchedNow(); step++) {
          await m.ready()
          inFlight++
          await tick()
          await sleep((inFlight === 2 ? batchedStepMs : serialStepMs) - 2)
          inFlight--
        }
        m.leave()
      }
      await Promise.all(members.map(loop))
      expect(gate.batching().chosen, `batched step ${batchedStepMs} ms, serial ${serialStepMs} ms`).toEqual({ 2: expected })
    }
  })
})

describe('decode mode on the real engine (tiny llama-moe, parallel 2)', () => {
  let host: NodeHost
  let key: CryptoKey

  beforeAll(async () => {
    key = await testKey()
    host = await startNodeHost({ model: await ensureTestModel({ layout: 'llama-moe' }), secret: TEST_SECRET, threads: 1, parallel: 2, contextSize: 512, maxQueue: 2 })
  })
  afterAll(() => host?.close())

  it('measures both modes under two concurrent streams and shows its choice in /health', async () => {
    const stream = async (seed: number) => {
      const res = await postChat(host.url, key, { messages: [{ role: 'user', content: 'Write letters.' }], grammar: 'root ::= [a-z] root', max_tokens: 64, seed, stream: true, stream_options: { include_usage: true } })
      expect(res.status).toBe(200)
      const items = await readSse(res)
      const usage = items.flatMap((i) => ('data' in i && i.data !== '[DONE]' ? [JSON.parse(i.data) as { usage?: { completion_tokens: number } }] : [])).find((c) => c.usage)?.usage
      expect(usage?.completion_tokens).toBe(64)
    }
    const before = (await (await fetch(`${host.url}/health`)).json()) as { batching: { policy: string; chosen: Record<string, string> } }
    expect(before.batching).toEqual({ policy: 'auto', chosen: {} })
    await Promise.all([stream(1), stream(2)])
    const after = (await (await fetch(`${host.url}/health`)).json()) as typeof before
    expect(after.batching.policy).toBe('auto')
    expect(['batched', 'serial']).toContain(after.batching.chosen['2'])
  }, 60_000)
})
