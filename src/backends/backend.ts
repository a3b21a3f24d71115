import type { BackendName } from '../routing/plan.js'

export type FetchLike = (input: Request | string | URL, init?: RequestInit) => Promise<Response>

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
  send(req: BackendRequest): Promise<Response>
  /** Public model names this backend serves, for /v1/models. */
  modelIds(): string[]
}
