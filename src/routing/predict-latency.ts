/** What the pool knows about the node-host it would pick for a request (from /health and its own traffic). */
export interface HostTelemetry {
  host: string
  slotsTotal: number
  /** Requests running or queued on the host now (other processes' per /health, plus this process's in flight). */
  occupied: number
  prefillTokensPerSecond: number | null
  decodeTokensPerSecond: number | null
  /** Median latency of this process's recent successful requests to the host; null before any. */
  latencyP50Ms: number | null
}

export interface LatencyInputs {
  telemetry: HostTelemetry
  promptTokens: number
  completionTokens: number
}

/**
 * Predicted end-to-end latency of one local request, in ms, or null when the host has not reported
 * a decode rate (nothing to predict from). Three terms:
 * - queue wait: requests ahead of this one (beyond the free slots) × a typical request's time,
 *   shared by the host's slots;
 * - prefill: prompt tokens / prefill tok/s (the decode rate when prefill is unmeasured: prefill is
 *   never slower than decode, so this errs towards "too slow", i.e. towards hosted);
 * - decode: completion tokens / decode tok/s.
 * @example predictLatencyMs({ telemetry, promptTokens: 100, completionTokens: 256 })
 */
export function predictLatencyMs(inputs: LatencyInputs): number | null {
  const t = inputs.telemetry
  const decodeTps = t.decodeTokensPerSecond
  if (decodeTps === null || !(decodeTps > 0)) return null
  const prefillTps = t.prefillTokensPerSecond !== null && t.prefillTokensPerSecond > 0 ? t.prefillTokensPerSecond : decodeTps
  const slots = Math.max(1, t.slotsTotal)
  const ownMs = (1000 * inputs.promptTokens) / prefillTps + (1000 * inputs.completionTokens) / decodeTps
  // A request with no history to go by is taken to be as long as this one.
  const typicalRequestMs = t.latencyP50Ms ?? ownMs
  const ahead = Math.max(0, t.occupied - slots + 1)
  const queueWaitMs = (ahead * typicalRequestMs) / slots
  return Math.round(queueWaitMs + ownMs)
}

/** Prompt tokens from the request body's size: ~4 UTF-8 bytes per token for typical text. */
export function promptTokensEstimate(bodyBytes: number): number {
  return Math.ceil(bodyBytes / 4)
}
