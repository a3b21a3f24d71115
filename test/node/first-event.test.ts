import { describe, expect, it } from 'vitest'
import { readFirstEvent } from '../../src/routing/first-event.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A stream fed by hand, so each test says exactly when bytes arrive or the connection breaks. */
function manualStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) }, { highWaterMark: 0 })
  return { reader: stream.getReader(), send: (text: string) => controller.enqueue(encoder.encode(text)), end: () => controller.close(), fail: () => controller.error(new Error('socket closed')) }
}

describe('readFirstEvent', () => {
  it('holds keep-alive comments and hands them over with the first event', async () => {
    const s = manualStream()
    let alive = 0
    const first = readFirstEvent(s.reader, { holdUntilMs: Date.now() + 60_000, now: Date.now, onAlive: () => alive++ })
    s.send(': keep-alive\n\n')
    s.send(': keep-alive\n\n')
    s.send('data: {"a":1}\n\n')
    const got = await first
    expect(decoder.decode(got!.firstChunk)).toBe(': keep-alive\n\n: keep-alive\n\ndata: {"a":1}\n\n')
    expect(alive).toBe(1)
  })

  it('throws when the connection breaks after comments only, so the caller can fall back', async () => {
    const s = manualStream()
    const first = readFirstEvent(s.reader, { holdUntilMs: Date.now() + 60_000, now: Date.now, onAlive: () => {} })
    s.send(': keep-alive\n\n')
    await new Promise((r) => setImmediate(r))
    s.fail()
    await expect(first).rejects.toThrow('socket closed')
  })

  it('answers undefined when the stream ends with comments only', async () => {
    const s = manualStream()
    const first = readFirstEvent(s.reader, { holdUntilMs: Date.now() + 60_000, now: Date.now, onAlive: () => {} })
    s.send(': keep-alive\n\n')
    await new Promise((r) => setImmediate(r))
    s.end()
    expect(await first).toBeUndefined()
  })

  it('lets the comments go when the hold runs out, and loses no byte of the read in flight', async () => {
    const s = manualStream()
    const first = readFirstEvent(s.reader, { holdUntilMs: Date.now() + 50, now: Date.now, onAlive: () => {} })
    s.send(': keep-alive\n\n')
    const got = await first
    expect(decoder.decode(got!.firstChunk)).toBe(': keep-alive\n\n')
    s.send('data: {"b":2}\n\n')
    expect(decoder.decode((await got!.reader.read()).value)).toBe('data: {"b":2}\n\n')
    s.end()
    expect((await got!.reader.read()).done).toBe(true)
  })

  it('commits at once on a first chunk that holds data, like any byte did before', async () => {
    const s = manualStream()
    const first = readFirstEvent(s.reader, { holdUntilMs: Date.now() + 60_000, now: Date.now, onAlive: () => {} })
    s.send('data: {"c":3}\n\n')
    expect(decoder.decode((await first)!.firstChunk)).toBe('data: {"c":3}\n\n')
  })
})
