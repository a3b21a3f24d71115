/**
 * Server-sent events with keep-alive and one write per event-loop turn.
 *
 * Events are gathered and written together once the current turn's work is done (setImmediate): every
 * choice a decode step advanced, and everything that queued while the writer was behind, goes out as one
 * chunk, one socket write, instead of one per token. Nothing waits on a timer, so the first token leaves
 * as soon as its turn ends. Streaming ends (`produce` settles) by writing whatever is pending first.
 *
 * While nothing has been written for `keepAliveMs` (long prefill, queue wait, slow upstream) a
 * `: keep-alive` comment goes out, so proxies with read timeouts (Cloudflare cuts idle responses at
 * ~100 s) keep the stream open. Comments are ignored by SSE clients.
 */

const encoder = new TextEncoder()
export const KEEP_ALIVE_COMMENT = ': keep-alive\n\n'

export interface SseWriter {
  /** Writes `data: <json>\n\n` (with the rest of this turn's events). */
  data(value: unknown): void
  /** Writes `data: [DONE]\n\n`. */
  done(): void
  /** Passes bytes through (forward mode) after any pending events; keep-alives are only inserted between whole events. */
  raw(bytes: Uint8Array): void
  /** Writes a keep-alive comment now (between events only), unless events are about to go out anyway. */
  keepAlive(): void
}

export interface SseStreamOptions {
  keepAliveMs: number
  /** Writes the events; the signal aborts when the client goes away. */
  produce(writer: SseWriter, signal: AbortSignal): Promise<void>
  /** Called when producing fails after the stream started; returns the error event to send. */
  onError(err: unknown): unknown
}

export function createSseStream(opts: SseStreamOptions): { stream: ReadableStream<Uint8Array>; signal: AbortSignal } {
  const aborter = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  let lastWriteAt = 0
  let atEventBoundary = true
  let closed = false
  let pending = ''
  let flushScheduled = false

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (bytes: Uint8Array) => {
        if (closed) return
        controller.enqueue(bytes)
        lastWriteAt = performance.now()
      }
      const flush = () => {
        flushScheduled = false
        if (pending === '') return
        const text = pending
        pending = ''
        write(encoder.encode(text))
      }
      const queue = (text: string) => {
        if (closed) return
        pending += text
        if (flushScheduled) return
        flushScheduled = true
        setImmediate(flush)
      }
      // One timer for the whole stream, re-armed for what is left of the interval rather than on every
      // write (a write per token would otherwise clear and set a timer per token).
      const armKeepAlive = (delayMs: number) => {
        timer = setTimeout(() => {
          if (closed) return
          const idleMs = performance.now() - lastWriteAt
          if (idleMs < opts.keepAliveMs) return armKeepAlive(opts.keepAliveMs - idleMs)
          if (atEventBoundary && pending === '') write(encoder.encode(KEEP_ALIVE_COMMENT))
          armKeepAlive(opts.keepAliveMs)
        }, delayMs)
      }
      const writer: SseWriter = {
        data: (value) => queue(`data: ${JSON.stringify(value)}\n\n`),
        done: () => queue('data: [DONE]\n\n'),
        raw: (bytes) => {
          if (bytes.length === 0) return
          flush()
          atEventBoundary = endsWithBlankLine(bytes)
          write(bytes)
        },
        keepAlive: () => {
          if (atEventBoundary && pending === '') write(encoder.encode(KEEP_ALIVE_COMMENT))
        },
      }
      lastWriteAt = performance.now()
      armKeepAlive(opts.keepAliveMs)
      void opts
        .produce(writer, aborter.signal)
        .catch((err: unknown) => {
          if (!aborter.signal.aborted) writer.data(opts.onError(err))
        })
        .finally(() => {
          if (timer) clearTimeout(timer)
          flush()
          if (!closed) {
            closed = true
            controller.close()
          }
        })
    },
    cancel(reason) {
      closed = true
      pending = ''
      if (timer) clearTimeout(timer)
      aborter.abort(reason ?? new Error('client closed the stream'))
    },
  })
  return { stream, signal: aborter.signal }
}

function endsWithBlankLine(bytes: Uint8Array): boolean {
  const n = bytes.length
  // '\n\n' or '\r\n\r\n'
  return (n >= 2 && bytes[n - 1] === 10 && bytes[n - 2] === 10) || (n >= 4 && bytes[n - 1] === 10 && bytes[n - 2] === 13 && bytes[n - 3] === 10)
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // Tells nginx-style proxies not to buffer the stream.
  'x-accel-buffering': 'no',
} as const
