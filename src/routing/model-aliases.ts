import type { Backend, Prepared } from '../backends/backend.js'
import type { Logger } from '../log.js'

export interface ModelAlias {
  alias: string
  /** null: local does not serve the alias. */
  localModel: string | null
  /** null: hosted does not serve the alias. */
  hostedModel: string | null
}

/**
 * Every model alias, read from the database at most once per `ttlMs` per process (the table is
 * small and changes rarely); an admin change here drops the copy at once. A failed read keeps the
 * last copy, so an outage of the alias table never fails requests for ordinary names.
 */
export class AliasBook {
  private byName = new Map<string, ModelAlias>()
  private loadedAtMs = Number.NEGATIVE_INFINITY

  constructor(private readonly deps: { load: () => Promise<ModelAlias[]>; ttlMs: number; now: () => number; log: Logger }) {}

  // Each caller reads for itself when stale (no shared in-flight promise: workerd forbids awaiting another request's I/O).
  async all(): Promise<ReadonlyMap<string, ModelAlias>> {
    if (this.deps.now() - this.loadedAtMs < this.deps.ttlMs) return this.byName
    try {
      const rows = await this.deps.load()
      this.byName = new Map(rows.map((r) => [r.alias, r]))
      this.loadedAtMs = this.deps.now()
    } catch (err) {
      this.deps.log.warn('model alias read failed', { error: err instanceof Error ? err.name : 'unknown' })
    }
    return this.byName
  }

  forget(): void {
    this.loadedAtMs = Number.NEGATIVE_INFINITY
  }
}

/** A backend's prepare step with the alias applied: it is asked for the alias's model on that backend. */
export function prepareAliased(backend: Backend, body: Record<string, unknown>, publicName: string, alias: ModelAlias | undefined): Prepared {
  if (!alias) return backend.prepare(body, publicName)
  const target = backend.name === 'local' ? alias.localModel : alias.hostedModel
  if (target === null) return { ok: false, status: 404, code: 'model_not_found', message: `The model alias '${publicName}' has no ${backend.name} model` }
  return backend.prepare({ ...body, model: target }, target)
}

/** Aliases a gateway with these backends can serve, for /v1/models. */
export function servableAliases(aliases: Iterable<ModelAlias>, configured: { local: boolean; hosted: boolean }): string[] {
  return [...aliases].filter((a) => (configured.local && a.localModel !== null) || (configured.hosted && a.hostedModel !== null)).map((a) => a.alias)
}
