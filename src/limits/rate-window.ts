/**
 * Fixed windows aligned to multiples of `windowMs` since the epoch, so every process and
 * isolate agrees on the window of a moment without talking to the others.
 */
export function windowStartOf(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs) * windowMs
}

/** Milliseconds until the window holding `nowMs` ends (at least 1). */
export function msUntilWindowEnd(nowMs: number, windowMs: number): number {
  return Math.max(1, windowStartOf(nowMs, windowMs) + windowMs - nowMs)
}

/** `Retry-After` is whole seconds (RFC 9110 §10.2.3); round up so a client retrying on time is admitted. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}

/**
 * A duration the way OpenAI writes `x-ratelimit-reset-*`: "250ms", "12s", "1m30s"
 * (platform.openai.com/docs/guides/rate-limits, "Rate limits in headers").
 */
export function resetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`
  const seconds = Math.ceil(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`
}
