import { silentLogger, type Logger } from '../log.js'
import { outcomeOfResponse, outcomeOfThrow } from '../routing/health-outcomes.js'
import { probeHealth, type ProbeFetch } from '../routing/health-probe.js'
import { HostState, type SharedHostState } from '../routing/host-state.js'
import type { HostStateStore } from '../routing/host-state-store.js'
import type { Backend, BackendRequest, FetchLike, UpstreamResponse } from './backend.js'
import { BusyClock } from './busy-clock.js'
import { createNodeHostBackend } from './node-host.js'
import type { NodeHostEntry } from './pool-config.js'
import { pooledResponse } from './pool-response.js'
import { hostReport, type NodeHostReport } from './pool-report.js'

export interface PoolOptions {
  hosts: NodeHostEntry[]
  fetch: FetchLike
  /** For GET /health probes; the global fetch by default. */
  probeFetch?: ProbeFetch
  /** Model names listed for hosts configured without `models` (LOCAL_MODELS). */
  anyModelIds: string[]
  breakerFailures: number
  breakerCooldownMs: number
  probeIntervalMs: number
  /** Shared state across processes; in-process only without one. */
  store?: HostStateStore
  /** How stale the shared state may be before a request reads it again. */
  sharedReadMs?: number
  now?: () => number
  log?: Logger
}

/** The local backend over several node-hosts, plus what the entry and /admin/health need. */
export interface PoolBackend extends Backend {
  /** Node: probe every interval until stopped. Workers never call it (requests probe lazily). */
  startProbes(): () => void
  probeAll(): Promise<void>
  report(): NodeHostReport[]
}

interface PoolHost {
  entry: NodeHostEntry
  /** The shared record's key: name and URL, so two gateways naming different boxes alike never mix. */
  key: string
  state: HostState
  backend: Backend
  /** This process's requests on the host, for each one's share of its busy time. */
  clock: BusyClock
  lastPickedAt: number
}

class NoHostAvailable extends Error {}

/**
 * Picks, per request, the least-loaded available node-host that serves the model; a host whose
 * connection is refused is skipped for the next one. No host available throws, which the gateway
 * treats like an unreachable backend (local-first then falls back to hosted).
 * @example const local = createPoolBackend({ hosts, fetch, anyModelIds: [], breakerFailures: 3, breakerCooldownMs: 10_000, probeIntervalMs: 5000 })
 */
export function createPoolBackend(opts: PoolOptions): PoolBackend {
  const now = opts.now ?? (() => Date.now())
  const log = opts.log ?? silentLogger
  const probeFetch: ProbeFetch = opts.probeFetch ?? ((url, init) => fetch(url, init))
  const sharedReadMs = opts.sharedReadMs ?? 2000
  const hosts: PoolHost[] = opts.hosts.map((entry) => {
    const key = `${entry.name} ${entry.url}`
    const save = (s: SharedHostState) => {
      opts.store?.save({ ...s, host: key }).catch((err: unknown) => log.warn('backend state write failed', { host: entry.name, error: err instanceof Error ? err.name : 'unknown' }))
    }
    return {
      entry,
      key,
      state: new HostState(entry.name, { failures: opts.breakerFailures, cooldownMs: opts.breakerCooldownMs, now, onChange: save }),
      backend: createNodeHostBackend({ url: entry.url, secret: entry.secret, fetch: opts.fetch }),
      clock: new BusyClock(now),
      lastPickedAt: 0,
    }
  })
  let lastProbeAt = Number.NEGATIVE_INFINITY
  let lastSharedReadAt = Number.NEGATIVE_INFINITY

  const serves = (h: PoolHost, model: unknown) => !h.entry.models || (typeof model === 'string' && h.entry.models.includes(model))

  async function probeAll(): Promise<void> {
    lastProbeAt = now()
    await Promise.all(
      hosts.map(async (h) => {
        const result = await probeHealth(probeFetch, h.entry.url, Math.max(1000, opts.probeIntervalMs), now)
        if (result.health) h.state.health = { ...result.health, ownInFlight: h.state.inFlight }
        // A host still loading its model is not broken: skipped until it is ready, breaker untouched
        // (a big model's first start, with its variant probe, takes longer than BREAKER_FAILURES probes).
        if (!result.ok) h.state.record({ kind: 'failure', error: result.error, ...(result.health?.status === 'loading' ? { breaker: false as const } : {}) })
        else h.state.noteHealthy()
      }),
    )
  }

  // Each caller reads for itself (no shared in-flight promise): workerd forbids awaiting I/O another request started.
  async function readShared(): Promise<void> {
    if (!opts.store || now() - lastSharedReadAt < sharedReadMs) return
    lastSharedReadAt = now()
    try {
      const records = new Map((await opts.store.load()).map((r) => [r.host, r]))
      for (const h of hosts) {
        const record = records.get(h.key)
        if (record) h.state.adopt(record)
      }
    } catch (err) {
      log.warn('backend state read failed', { error: err instanceof Error ? err.name : 'unknown' })
    }
  }

  function candidates(model: unknown): PoolHost[] {
    return hosts
      .filter((h) => serves(h, model) && h.state.available())
      .sort((a, b) => a.state.load() - b.state.load() || a.lastPickedAt - b.lastPickedAt)
  }

  async function sendVia(h: PoolHost, req: BackendRequest): Promise<UpstreamResponse> {
    h.lastPickedAt = now()
    h.state.inFlight++
    h.state.sent++
    const busy = h.clock.start()
    let released = false
    const done = () => {
      if (released) return
      released = true
      busy.end()
      h.state.inFlight--
      req.signal.removeEventListener('abort', done)
    }
    req.signal.addEventListener('abort', done, { once: true })
    const started = now()
    try {
      const res = await h.backend.send(req)
      h.state.record(outcomeOfResponse(res, now() - started, now()))
      // The usage row may be built before `done` (a client that leaves is recorded, then the upstream aborted):
      // settling ends the share there, and `done` later finds it ended (a ticket ends once).
      return pooledResponse(res, h.entry.name, done, { costNanoUsdPerHour: h.entry.costNanoUsdPerHour, settleBusyMs: busy.end })
    } catch (err) {
      done()
      h.state.record(outcomeOfThrow(req.signal))
      throw err
    }
  }

  return {
    name: 'local',
    prepare(body, model) {
      // The body names the model a node-host is asked for (an alias's local name, src/routing/model-aliases.ts).
      if (hosts.some((h) => serves(h, model))) return { ok: true, body: { ...body, model } }
      return { ok: false, status: 404, code: 'model_not_found', message: `No node-host serves model "${model}"` }
    },
    async send(req) {
      // No timers in workerd outside requests, so a request that finds the probes stale starts them.
      if (now() - lastProbeAt >= opts.probeIntervalMs) void probeAll()
      await readShared()
      const model = req.body.model
      for (const h of candidates(model)) {
        if (!h.state.breaker.admit()) continue
        try {
          return await sendVia(h, req)
        } catch (err) {
          // Refused before anything was sent: the next host may take it. Timeouts and aborts end here.
          if (req.signal.aborted) throw err
        }
      }
      throw new NoHostAvailable('no node-host available')
    },
    telemetry(model) {
      const h = candidates(model)[0]
      if (!h?.state.health) return null
      return {
        host: h.entry.name,
        slotsTotal: Math.max(1, h.state.health.slots.total),
        occupied: h.state.occupied(),
        prefillTokensPerSecond: h.state.health.prefillTokensPerSecond,
        decodeTokensPerSecond: h.state.health.decodeTokensPerSecond,
        latencyP50Ms: h.state.latencyP50(),
      }
    },
    modelIds() {
      const ids = new Set<string>()
      for (const h of hosts) for (const m of h.entry.models ?? opts.anyModelIds) ids.add(m)
      return [...ids]
    },
    startProbes() {
      void probeAll()
      const timer = setInterval(() => void probeAll(), opts.probeIntervalMs) as unknown as { unref?: () => void }
      timer.unref?.() // a probe must not keep a Node process alive
      return () => clearInterval(timer as unknown as ReturnType<typeof setInterval>)
    },
    probeAll,
    report: () => hosts.map((h) => hostReport(h.entry, h.state)),
  }
}
