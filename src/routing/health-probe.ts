import type { HostHealth } from './host-state.js'

/** A GET for probes: the global fetch (Node 20 and workerd both have it). */
export type ProbeFetch = (url: string, init: { signal: AbortSignal }) => Promise<{ status: number; json(): Promise<unknown> }>

export type ProbeResult = { ok: true; health: HostHealth } | { ok: false; error: string; health?: HostHealth }

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0
}

/**
 * A string field on one line, cut to `max` UTF-16 units (never half a surrogate pair), or undefined.
 * The host is not trusted to keep its promise of a short one-line string.
 */
function text(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string') return undefined
  const line = v.slice(0, max * 2).replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  const cut = line.length > max ? line.slice(0, max).replace(/[\uD800-\uDBFF]$/, '') : line
  return cut === '' ? undefined : cut
}

/** Reads node-host's GET /health body (node-host/health.ts); tolerant of missing fields. */
function healthFrom(raw: unknown, atMs: number): HostHealth {
  const b = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, Record<string, unknown> | string | undefined>
  const slots = typeof b.slots === 'object' ? b.slots : {}
  const queue = typeof b.queue === 'object' ? b.queue : {}
  const tps = typeof b.tokens_per_second === 'object' ? b.tokens_per_second : {}
  return {
    status: typeof b.status === 'string' ? b.status : 'unknown',
    slots: { total: num(slots.total), busy: num(slots.busy) },
    queue: { depth: num(queue.depth), max: num(queue.max) },
    decodeTokensPerSecond: typeof tps.decode === 'number' ? tps.decode : null,
    prefillTokensPerSecond: typeof tps.prefill === 'number' ? tps.prefill : null,
    error: text(b.error, 300),
    cpuVariant: text(b.cpu_variant, 40),
    atMs,
  }
}

/**
 * One probe of a node-host's /health. 503 (loading, failed, upstream down) is a failure that still
 * carries the body; a connect error or timeout is a failure without one.
 */
export async function probeHealth(fetch: ProbeFetch, baseUrl: string, timeoutMs: number, now: () => number): Promise<ProbeResult> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(new DOMException('probe timed out', 'TimeoutError')), timeoutMs)
  try {
    const res = await fetch(`${baseUrl}/health`, { signal: abort.signal })
    const health = healthFrom(await res.json().catch(() => ({})), now())
    if (res.status === 200) return { ok: true, health }
    return { ok: false, error: `health_${health.status !== 'unknown' ? health.status : res.status}`, health }
  } catch {
    return { ok: false, error: abort.signal.aborted ? 'health_timeout' : 'health_connect_error' }
  } finally {
    clearTimeout(timer)
  }
}
