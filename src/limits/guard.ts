import type { VerifiedKey } from '../auth/key-verifier.js'
import type { UsageRow } from '../db/schema.js'
import type { BackendName } from '../routing/plan.js'

/** What a guard sees of a request before it goes upstream. */
export interface AdmissionRequest {
  requestId: string
  key: VerifiedKey
  /** The public model name the client asked for. */
  model: string
  /** The hosted model name hosted would be asked for when it differs from `model` (a model alias); what budgets price. */
  hostedModel?: string
  /** Backends in the order they would be tried. */
  order: BackendName[]
  /** Upper bound on prompt tokens: UTF-8 bytes of the message text plus per-message overhead. */
  promptTokensBound: number
  /** max_tokens / max_completion_tokens; undefined when the client gave none (the guard applies a model cap). */
  maxCompletionTokens: number | undefined
  nowMs: number
}

export type Admission =
  | {
      ok: true
      /** Headers for the client (x-ratelimit-*, budget warnings). */
      headers: Record<string, string>
      /** A guard may narrow or reorder the backends (e.g. hosted budget spent: local only). */
      order?: BackendName[]
      /** Called once with the request's usage row when it is final; releases or settles what admit held. */
      settle?: (row: UsageRow) => Promise<void>
    }
  | { ok: false; status: 429 | 403 | 402; code: string; message: string; headers: Record<string, string> }

/**
 * A check that runs after auth and parsing, before any upstream call: rate limits, budgets,
 * key restrictions. Guards run in order; the first refusal wins.
 */
export interface RequestGuard {
  name: string
  admit(req: AdmissionRequest): Promise<Admission>
}
