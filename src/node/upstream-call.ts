/**
 * Node only (used by undici-upstream.ts): one upstream call as an undici dispatch handler. The
 * gateway reads an answer whole (text) or pulls it as a Web stream; undici's `request` wraps each
 * answer in a Node Readable, an AsyncResource and its own abort listener first, none of which the
 * gateway uses. Without them the gateway's CPU per request at c32 fell to 0.84 of what it was (0.80
 * with the answer as a class, below).
 */
import type { Dispatcher } from 'undici'
import type { IncomingHttpHeaders } from 'node:http'
import type { UpstreamResponse } from '../backends/backend.js'

// A reader that is not keeping up pauses the socket past this many bytes queued.
const HIGH_WATER_BYTES = 64 * 1024

export class UpstreamCall implements Dispatcher.DispatchHandler {
  /** Resolves with the response once its headers arrive, or rejects with the request's error. */
  readonly started: Promise<UpstreamResponse>
  private resolveStarted!: (res: UpstreamResponse) => void
  private rejectStarted!: (err: unknown) => void
  private controller: Dispatcher.DispatchController | undefined
  private responded = false
  private chunks: Buffer[] = []
  private queuedBytes = 0
  private ended = false
  private failure: unknown
  /** Whoever waits for the next chunk, the end or an error: a stream pull or text(). */
  private wake: (() => void) | undefined
  private gathering = false

  constructor(private readonly signal: AbortSignal) {
    this.started = new Promise((resolve, reject) => {
      this.resolveStarted = resolve
      this.rejectStarted = reject
    })
    signal.addEventListener('abort', this.onAbort, { once: true })
  }

  // A method bound once per call, not an arrow property: tsx names each arrow it creates at run time.
  private readonly onAbort = this.abort.bind(this)

  private abort(): void {
    this.fail(this.signal.reason)
    this.controller?.abort(this.signal.reason)
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.signal.aborted) controller.abort(this.signal.reason)
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return // 1xx: the answer is still to come
    this.responded = true
    this.resolveStarted(new UpstreamAnswer(this, statusCode, headers))
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk)
    this.queuedBytes += chunk.byteLength
    if (!this.gathering && this.queuedBytes >= HIGH_WATER_BYTES) controller.pause()
    this.notify()
  }

  onResponseEnd(): void {
    this.ended = true
    this.done()
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err)
  }

  private fail(err: unknown): void {
    if (this.ended || this.failure !== undefined) return
    this.failure = err ?? new Error('upstream request failed')
    if (!this.responded) this.rejectStarted(this.failure)
    this.done()
  }

  private done(): void {
    this.signal.removeEventListener('abort', this.onAbort)
    this.notify()
  }

  private notify(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private next(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve))
  }

  /** Everything queued, as one buffer, and the socket resumed if it was paused. */
  private takeQueued(): Buffer {
    const taken = this.chunks
    this.chunks = []
    this.queuedBytes = 0
    this.controller?.resume()
    return taken.length === 1 ? taken[0]! : Buffer.concat(taken)
  }

  async text(): Promise<string> {
    this.gathering = true
    this.controller?.resume()
    while (!this.ended && this.failure === undefined) await this.next()
    if (this.failure !== undefined) throw this.failure
    return this.takeQueued().toString('utf8')
  }

  /** Pull-based: nothing more is read from the socket than the reader takes (plus one high-water mark). */
  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (this.chunks.length === 0 && !this.ended && this.failure === undefined) await this.next()
          if (this.chunks.length > 0) {
            // What queued while the reader was busy goes on as one chunk: one pass of the SSE meter
            // and one write to the client, not one per socket read (2x the CPU per event at 64 streams).
            const chunk = this.takeQueued()
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          } else if (this.failure !== undefined) controller.error(this.failure)
          else controller.close()
        },
        cancel: (reason) => {
          this.fail(reason ?? new Error('upstream body cancelled'))
          this.controller?.abort(reason instanceof Error ? reason : new Error('upstream body cancelled'))
        },
      },
      { highWaterMark: 0 },
    )
  }
}

/** The response as the gateway sees it. A class, not an object literal of closures: one is made per call. */
class UpstreamAnswer implements UpstreamResponse {
  readonly ok: boolean
  readonly headers: AnswerHeaders
  private stream: ReadableStream<Uint8Array> | undefined

  constructor(private readonly call: UpstreamCall, readonly status: number, headers: IncomingHttpHeaders) {
    this.ok = status >= 200 && status < 300
    this.headers = new AnswerHeaders(headers)
  }

  get body(): ReadableStream<Uint8Array> {
    this.stream ??= this.call.stream()
    return this.stream
  }

  text(): Promise<string> {
    return this.call.text()
  }
}

class AnswerHeaders {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.headers[name.toLowerCase()]
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
  }
}
