import { TIMED_OUT, within } from './within.js'

/** What the client side of a stream reads from: a reader, or a reader with a read already in flight. */
export type StreamReader = Pick<ReadableStreamDefaultReader<Uint8Array>, 'read' | 'cancel'>

// SSE comment lines (": keep-alive") and blank lines say the backend is alive, not what it answers.
function onlyComments(text: string): boolean {
  return text.split(/\r\n|\r|\n/).every((line) => line === '' || line.startsWith(':'))
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

/** The reader, whose next read() returns the read already in flight. */
function resumingWith(reader: StreamReader, inFlight: Promise<ReadableStreamReadResult<Uint8Array>>): StreamReader {
  let next: typeof inFlight | undefined = inFlight
  inFlight.catch(() => {}) // seen by whoever reads next; never an unhandled rejection meanwhile
  return {
    read: () => {
      const p = next ?? reader.read()
      next = undefined
      return p
    },
    cancel: (reason?: unknown) => reader.cancel(reason),
  }
}

/**
 * Reads a stream up to its first event, holding back keep-alive comments: a backend that
 * dies while its request waits in a queue has sent no token, so the request can still fall
 * back. Comments are held until `holdUntilMs` at most (then they go out, so a client behind
 * a proxy with a read timeout still sees bytes). `onAlive` is called at the first comment:
 * a keep-alive proves the backend alive, as a first byte does.
 * Returns undefined when the stream ends before any event. Throws when the read fails.
 */
export async function readFirstEvent(reader: StreamReader, opts: { holdUntilMs: number; now: () => number; onAlive: () => void }): Promise<{ firstChunk: Uint8Array; reader: StreamReader } | undefined> {
  const chunks: Uint8Array[] = []
  const decoder = new TextDecoder()
  let text = ''
  let inFlight = reader.read()
  for (;;) {
    const next = chunks.length === 0 ? await inFlight : await within(inFlight, opts.holdUntilMs - opts.now())
    if (next === TIMED_OUT) return { firstChunk: concat(chunks), reader: resumingWith(reader, inFlight) }
    if (next.done) return undefined
    chunks.push(next.value)
    text += decoder.decode(next.value, { stream: true })
    if (!onlyComments(text)) return { firstChunk: concat(chunks), reader }
    if (chunks.length === 1) opts.onAlive()
    inFlight = reader.read()
  }
}
