import type { Actor } from '../auth/roles.js'
import { BACKEND_MODES, type BackendMode } from '../db/schema.js'
import type { BackendName } from '../routing/plan.js'
import { fail, ok, type OpResult } from './op-result.js'

/*
 * Validation of key fields sent to POST/PATCH /admin/keys and rotate. `undefined` means
 * "not sent"; `null` clears a restriction or an expiry.
 */

const BACKENDS: readonly BackendName[] = ['local', 'hosted']
const MAX_MODELS = 100
// A rotated key keeps working this long by default: enough to roll a deploy.
export const DEFAULT_GRACE_SECONDS = 3600
const MAX_GRACE_SECONDS = 30 * 24 * 3600

export function parseExpiry(value: unknown): OpResult<number | null | undefined> {
  if (value === undefined || value === null) return ok(value)
  const ms = typeof value === 'string' ? Date.parse(value) : NaN
  return Number.isFinite(ms) ? ok(ms) : fail(400, 'invalid_expiry', 'expires_at must be an ISO 8601 date (or null for no expiry)')
}

export function parseAllowedModels(value: unknown): OpResult<string[] | null | undefined> {
  if (value === undefined || value === null) return ok(value)
  const valid = Array.isArray(value) && value.length > 0 && value.length <= MAX_MODELS && value.every((m) => typeof m === 'string' && m.length > 0 && m.length <= 200)
  if (!valid) return fail(400, 'invalid_allowed_models', `allowed_models must be a non-empty array of up to ${MAX_MODELS} model names, or null for any model`)
  return ok([...new Set(value as string[])])
}

export function parseAllowedBackends(value: unknown): OpResult<BackendName[] | null | undefined> {
  if (value === undefined || value === null) return ok(value)
  const valid = Array.isArray(value) && value.length > 0 && value.every((b) => (BACKENDS as readonly unknown[]).includes(b))
  if (!valid) return fail(400, 'invalid_allowed_backends', `allowed_backends must be a non-empty array of ${BACKENDS.join(', ')}, or null for any backend`)
  return ok([...new Set(value as BackendName[])])
}

/** A key's own routing mode; null = its team's. */
export function parseKeyBackendMode(value: unknown): OpResult<BackendMode | null | undefined> {
  if (value === undefined || value === null) return ok(value)
  if (!(BACKEND_MODES as readonly unknown[]).includes(value)) return fail(400, 'invalid_backend_mode', `backend_mode must be one of ${BACKEND_MODES.join(', ')}, or null for the team's`)
  return ok(value as BackendMode)
}

export function parseGraceSeconds(value: unknown): OpResult<number> {
  if (value === undefined || value === null) return ok(DEFAULT_GRACE_SECONDS)
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_GRACE_SECONDS) {
    return fail(400, 'invalid_grace_seconds', `grace_seconds must be an integer from 0 to ${MAX_GRACE_SECONDS}`)
  }
  return ok(value)
}

/**
 * A key restricted to some models or backends cannot hand out keys that may do more:
 * `requested` must be within the actor's own list (null = any is wider than every list).
 */
export function notWiderThanActor(actor: Actor, requested: { models: readonly string[] | null; backends: readonly string[] | null }): OpResult<true> {
  const within = (own: readonly string[] | null, asked: readonly string[] | null) => own === null || (asked !== null && asked.every((x) => own.includes(x)))
  if (!within(actor.allowedModels, requested.models)) return fail(403, 'restriction_escalation', `Your key may use only the models ${actor.allowedModels?.join(', ')}; keys you manage cannot be allowed more`)
  if (!within(actor.allowedBackends, requested.backends)) return fail(403, 'restriction_escalation', `Your key may use only the backends ${actor.allowedBackends?.join(', ')}; keys you manage cannot be allowed more`)
  return ok(true)
}

/** A key's settable restrictions, each undefined when absent (keep) or null (clear). */
export interface KeySettings {
  expiresAt: number | null | undefined
  allowedModels: string[] | null | undefined
  allowedBackends: BackendName[] | null | undefined
  backendMode: BackendMode | null | undefined
}

/** Validates the settings shared by key creation and update; the first bad field answers. */
export function parseKeySettings(input: { expires_at?: unknown; allowed_models?: unknown; allowed_backends?: unknown; backend_mode?: unknown }): OpResult<KeySettings> {
  const expiry = parseExpiry(input.expires_at)
  if (!expiry.ok) return expiry
  const models = parseAllowedModels(input.allowed_models)
  if (!models.ok) return models
  const backends = parseAllowedBackends(input.allowed_backends)
  if (!backends.ok) return backends
  const mode = parseKeyBackendMode(input.backend_mode)
  if (!mode.ok) return mode
  return ok({ expiresAt: expiry.value, allowedModels: models.value, allowedBackends: backends.value, backendMode: mode.value })
}
