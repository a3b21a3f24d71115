/**
 * Reads usage and timings out of an upstream's answer as it passes through, for metrics only; the bytes
 * go to the client unchanged. SSE: the `data:` line carrying `usage`; JSON: the body's `usage`.
 */
import type { Timings, TokenUsage } from '../types.js'

const MAX_JSON_BODY_BYTES = 4 * 1024 * 1024

export interface UsageSniffer {
  push(bytes: Uint8Array): void
  result(): { usage?: TokenUsage; timings?: Timings } | undefined
}

export function createUsageSniffer(contentType: string): UsageSniffer {
  const decoder = new TextDecoder()
  const isSse = contentType.includes('text/event-stream')
  let buffered = ''
  let found: { usage?: TokenUsage; timings?: Timings } | undefined
  let overflow = false

  const take = (json: string) => {
    try {
      const parsed: unknown = JSON.parse(json)
      const report = readReport(parsed)
      if (report) found = { ...found, ...report }
    } catch {
      // not JSON: nothing to learn
    }
  }

  return {
    push(bytes) {
      if (overflow) return
      buffered += decoder.decode(bytes, { stream: true })
      if (!isSse) {
        if (buffered.length > MAX_JSON_BODY_BYTES) overflow = true
        return
      }
      let newline: number
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim()
        buffered = buffered.slice(newline + 1)
        if (line.startsWith('data:') && (line.includes('"usage"') || line.includes('"timings"'))) take(line.slice(5).trim())
      }
    },
    result() {
      if (!isSse && !overflow) take(buffered)
      return found
    },
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

function readReport(body: unknown): { usage?: TokenUsage; timings?: Timings } | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const out: { usage?: TokenUsage; timings?: Timings } = {}
  const usage = (body as { usage?: unknown }).usage
  if (typeof usage === 'object' && usage !== null) {
    const u = usage as { prompt_tokens?: unknown; completion_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown } | null }
    const promptTokens = num(u.prompt_tokens)
    const completionTokens = num(u.completion_tokens)
    if (promptTokens !== undefined && completionTokens !== undefined) {
      out.usage = { promptTokens, completionTokens, cachedTokens: num(u.prompt_tokens_details?.cached_tokens) ?? 0 }
    }
  }
  const timings = (body as { timings?: unknown }).timings
  if (typeof timings === 'object' && timings !== null) {
    const t = timings as Record<string, unknown>
    const promptMs = num(t.prompt_ms)
    const predictedMs = num(t.predicted_ms)
    if (promptMs !== undefined && predictedMs !== undefined) {
      out.timings = {
        prompt_n: num(t.prompt_n) ?? 0,
        prompt_ms: promptMs,
        prompt_per_second: num(t.prompt_per_second) ?? 0,
        predicted_n: num(t.predicted_n) ?? 0,
        predicted_ms: predictedMs,
        predicted_per_second: num(t.predicted_per_second) ?? 0,
        cache_n: num(t.cache_n) ?? 0,
      }
    }
  }
  return out.usage || out.timings ? out : undefined
}
