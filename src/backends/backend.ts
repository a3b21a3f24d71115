import type { BackendName } from '../routing/plan.js'
import type { HostTelemetry } from '../routing/predict-latency.js'

/** What a backend sends upstream: always a JSON POST. */
export interface UpstreamInit {
  method: 'POST'
  headers: Record<string, string>
  body: string | Uint8Array
  signal: AbortSignal
}

/** The part of a fetch Response the gateway uses; a Web Response is one, and so is Node's undici adapter. */
export interface UpstreamResponse {
  ok: boolean
  status: number
  headers: { get(name: string): string | null }
  body: ReadableStream<Uint8Array> | null
  text(): Promise<string>
}

/** Upstream HTTP: the global fetch on Workers, undici's dispatcher with a handler of the gateway's own on Node (src/node/undici-upstream.ts). */
export type FetchLike = (url: string, init: UpstreamInit) => Promise<UpstreamResponse>

/** What a backend is asked: an OpenAI chat body, already JSON-encodable. */
export interface BackendRequest {
  body: Record<string, unknown>
  signal: AbortSignal
}

/** Either the prepared body, or why this backend cannot take the request. */
export type Prepared = { ok: true; body: Record<string, unknown> } | { ok: false; status: 404; code: string; message: string }

/**
 * One upstream: DeepSeek or a node-host. `send` resolves when response headers arrive.
 * @example const res = await backend.send({ body, signal })
 */
export interface Backend {
  name: BackendName
  prepare(body: Record<string, unknown>, model: string): Prepared
  send(req: BackendRequest): Promise<UpstreamResponse>
  /** Public model names this backend serves, for /v1/models. */
  modelIds(): string[]
  /** The node-host pool only: what the host it would pick for `model` last reported (auto routing). */
  telemetry?(model: string): HostTelemetry | null
}
