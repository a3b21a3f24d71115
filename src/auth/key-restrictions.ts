import type { Admission, RequestGuard } from '../limits/guard.js'

/**
 * Enforces a key's own `allowed_models` and `allowed_backends` before any other guard
 * (rate limits and budgets count only requests the key may make at all): a model outside
 * the list is 403 `model_not_allowed`; the backend order is narrowed to the allowed
 * backends, and 403 `backend_not_allowed` when none is left. Models are compared by the
 * public name the client asked for.
 * @example createGateway({ ..., guards: [keyRestrictionsGuard(), ...others] })
 */
export function keyRestrictionsGuard(): RequestGuard {
  return {
    name: 'key-restrictions',
    async admit({ key, model, order }): Promise<Admission> {
      if (key.allowedModels && !key.allowedModels.includes(model)) {
        return { ok: false, status: 403, code: 'model_not_allowed', message: `This key may not use model '${model}'. Allowed: ${key.allowedModels.join(', ')}`, headers: {} }
      }
      if (!key.allowedBackends) return { ok: true, headers: {} }
      const allowed = key.allowedBackends
      const narrowed = order.filter((backend) => allowed.includes(backend))
      if (narrowed.length === 0) {
        return { ok: false, status: 403, code: 'backend_not_allowed', message: `This key may use only the ${allowed.join(', ')} backend(s); this request would go to ${order.join(', ')}`, headers: {} }
      }
      return { ok: true, headers: {}, order: narrowed }
    },
  }
}
