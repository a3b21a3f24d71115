import type { Backend, UpstreamResponse } from '../backends/backend.js'
import type { Outcome } from './host-state.js'

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined
  const trimmed = header.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

/**
 * What an upstream's answer says about its health. 5xx and 408 are failures; 429 and 503 with
 * Retry-After hold the host for that long; other 4xx are about the request, not the host.
 */
export function outcomeOfResponse(res: Pick<UpstreamResponse, 'status' | 'headers'>, latencyMs: number, nowMs: number): Outcome {
  if (res.status < 400) return { kind: 'success', latencyMs }
  const hold = res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get('retry-after'), nowMs) : undefined
  if (res.status === 429) return { kind: 'failure', error: 'status_429', retryAfterMs: hold, breaker: false }
  if (res.status === 408 || res.status >= 500) return { kind: 'failure', error: `status_${res.status}`, ...(hold !== undefined ? { retryAfterMs: hold } : {}) }
  return { kind: 'neutral' }
}

/** What a thrown send says: the client leaving says nothing; a timeout or connect error is a failure. */
export function outcomeOfThrow(signal: AbortSignal): Outcome {
  if (!signal.aborted) return { kind: 'failure', error: 'connect_error' }
  const reason: unknown = signal.reason
  return reason instanceof DOMException && reason.name === 'TimeoutError' ? { kind: 'failure', error: 'timeout' } : { kind: 'neutral' }
}

/** Recent outcomes of one backend (hosted), for /admin/health's error rate. */
export class OutcomeWindow {
  private readonly failures: boolean[] = []
  lastError: string | null = null

  constructor(private readonly size = 50) {}

  add(outcome: Outcome): void {
    if (outcome.kind === 'neutral') return
    this.failures.push(outcome.kind === 'failure')
    if (this.failures.length > this.size) this.failures.shift()
    if (outcome.kind === 'failure') this.lastError = outcome.error
  }

  get samples(): number {
    return this.failures.length
  }

  errorRate(): number | null {
    return this.failures.length === 0 ? null : this.failures.filter(Boolean).length / this.failures.length
  }
}

/** The backend, with each send's outcome (up to response headers) added to `window`. */
export function observedBackend(backend: Backend, window: OutcomeWindow, now: () => number = Date.now): Backend {
  return {
    ...backend,
    async send(req) {
      const started = now()
      try {
        const res = await backend.send(req)
        window.add(outcomeOfResponse(res, now() - started, now()))
        return res
      } catch (err) {
        window.add(outcomeOfThrow(req.signal))
        throw err
      }
    },
  }
}
