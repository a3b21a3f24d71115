import { estimateUsage } from '../metering/estimate.js'
import { SseMeter } from '../metering/sse-meter.js'
import type { UsageOutcome, UsageRecorder } from '../metering/usage-recorder.js'
import type { StreamReader } from '../routing/first-event.js'
import { TIMED_OUT, within } from '../routing/within.js'

const encoder = new TextEncoder()

function sseError(code: string, message: string): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify({ error: { message, type: 'upstream_error', code } })}\n\ndata: [DONE]\n\n`)
}

/**
 * The client's side of a served stream: upstream bytes pass through as they come (pulled,
 * so a slow client slows the upstream instead of growing a buffer), metered on the way.
 * Ends in exactly one usage row, whether the stream completes, upstream breaks after the
 * first byte (the client gets an SSE error event, not silent truncation), upstream sends nothing
 * for `idleTimeoutMs` (the same error event; the upstream request is aborted) or the client leaves.
 */
export function meteredStream(opts: {
  reader: StreamReader
  firstChunk: Uint8Array
  upstreamAbort: AbortController
  /** Longest wait for upstream bytes, comments included (STREAM_IDLE_TIMEOUT_MS). The clock runs only while the client is waiting: a slow reader is not an idle upstream. */
  idleTimeoutMs: number
  clientWantsUsage: boolean
  promptChars: number
  recorder: UsageRecorder
  startedAtMs: number
  now: () => number
  outcome: Pick<UsageOutcome, 'backend' | 'backendHost' | 'hostShare' | 'fellBack' | 'fallbackReason' | 'attempts'>
}): ReadableStream<Uint8Array> {
  const meter = new SseMeter({ clientWantsUsage: opts.clientWantsUsage, now: opts.now })
  const finish = (status: number, errorCode: string | null, clientAborted = false) => {
    const usage = meter.usage ?? estimateUsage({ promptChars: opts.promptChars, contentChars: meter.contentChars, reasoningChars: meter.reasoningChars, contentDeltas: meter.contentDeltas, reasoningDeltas: meter.reasoningDeltas })
    opts.recorder.finish({
      ...opts.outcome,
      status,
      errorCode,
      upstreamModel: meter.model ?? null,
      usage,
      usageEstimated: meter.usage === undefined,
      ttftMs: meter.firstTokenAt === undefined ? null : Math.round(meter.firstTokenAt - opts.startedAtMs),
      clientAborted,
    })
  }
  const firstOut = meter.push(opts.firstChunk)
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (firstOut.byteLength > 0) controller.enqueue(firstOut)
      },
      async pull(controller) {
        try {
          for (;;) {
            const next = await within(opts.reader.read(), opts.idleTimeoutMs)
            if (next === TIMED_OUT) {
              // A trailing partial event is dropped, not flushed: it would run into the error event's data line.
              controller.enqueue(sseError('stream_idle_timeout', `The backend sent nothing for ${opts.idleTimeoutMs} ms`))
              finish(504, 'stream_idle_timeout')
              opts.upstreamAbort.abort(new DOMException('upstream stream idle', 'TimeoutError'))
              opts.reader.cancel().catch(() => {})
              controller.close()
              return
            }
            const { done, value } = next
            if (done) {
              const rest = meter.flush()
              if (rest.byteLength > 0) controller.enqueue(rest)
              if (meter.sawDone) finish(meter.upstreamErrorCode ? 502 : 200, meter.upstreamErrorCode ?? null)
              else {
                controller.enqueue(sseError('upstream_stream_truncated', 'The backend ended the stream early'))
                finish(502, 'upstream_stream_truncated')
              }
              controller.close()
              return
            }
            const out = meter.push(value)
            if (out.byteLength > 0) {
              controller.enqueue(out)
              return
            }
          }
        } catch {
          if (opts.recorder.finished) return // the client left; cancel() recorded it
          controller.enqueue(sseError('upstream_stream_broken', 'The backend connection broke mid-stream'))
          finish(502, 'upstream_stream_broken')
          controller.close()
        }
      },
      cancel() {
        finish(499, 'client_closed_request', true)
        opts.upstreamAbort.abort(new DOMException('client closed request', 'AbortError'))
        opts.reader.cancel().catch(() => {})
      },
    },
    { highWaterMark: 0 },
  )
}
