/**
 * Server-sent events with keep-alive. While nothing has been written for `keepAliveMs` (long prefill,
 * queue wait, slow upstream) a `: keep-alive` comment goes out, so proxies with read timeouts
 * (Cloudflare cuts idle responses at ~100 s) keep the stream open. Comments are ignored by SSE clients.
 */

const encoder = new TextEncoder()
export const KEEP_ALIVE_COMMENT = ': keep-alive\n\n'

export interface SseWriter {
  /** Writes `data: <json>\n\n`. */
  data(value: unknown): void
  /** Writes `data: [DONE]\n\n`. */
  done(): void
  /** Passes bytes through (forward mode); keep-alives are only inserted between whole events. */
  raw(bytes: Uint8Array): void
  /** Writes a keep-alive comment now (between events only). */
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
  let atEventBoundary = true
  let closed = false

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (bytes: Uint8Array) => {
        if (closed) return
        controller.enqueue(bytes)
        armKeepAlive()
      }
      const armKeepAlive = () => {
        if (timer) clearTimeout(timer)
        timer = setTimeout(() => {
          if (closed) return
          if (atEventBoundary) controller.enqueue(encoder.encode(KEEP_ALIVE_COMMENT))
          armKeepAlive()
        }, opts.keepAliveMs)
      }
      const writer: SseWriter = {
        data: (value) => write(encoder.encode(`data: ${JSON.stringify(value)}\n\n`)),
        done: () => write(encoder.encode('data: [DONE]\n\n')),
        raw: (bytes) => {
          if (bytes.length === 0) return
          atEventBoundary = endsWithBlankLine(bytes)
          write(bytes)
        },
        keepAlive: () => {
          if (atEventBoundary) write(encoder.encode(KEEP_ALIVE_COMMENT))
        },
      }
      armKeepAlive()
      void opts
        .produce(writer, aborter.signal)
        .catch((err: unknown) => {
          if (!aborter.signal.aborted) writer.data(opts.onError(err))
        })
        .finally(() => {
          if (timer) clearTimeout(timer)
          if (!closed) {
            closed = true
            controller.close()
          }
        })
    },
    cancel(reason) {
      closed = true
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
