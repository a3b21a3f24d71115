import type { Context } from 'hono'
import type { Backend } from '../backends/backend.js'
import { servableAliases, type AliasBook } from '../routing/model-aliases.js'
import type { BackendName } from '../routing/plan.js'

/** `GET /v1/models`: every public name some configured backend serves, in OpenAI's list format. */
export function listModels(backends: Partial<Record<BackendName, Backend>>, aliases: AliasBook) {
  return async (c: Context): Promise<Response> => {
    const data = new Map<string, { id: string; object: 'model'; created: number; owned_by: string }>()
    for (const backend of Object.values(backends)) {
      for (const id of backend.modelIds()) {
        if (!data.has(id)) data.set(id, { id, object: 'model', created: 0, owned_by: backend.name === 'hosted' ? 'deepseek' : 'self-hosted' })
      }
    }
    const configured = { local: backends.local !== undefined, hosted: backends.hosted !== undefined }
    for (const id of servableAliases((await aliases.all()).values(), configured)) {
      if (!data.has(id)) data.set(id, { id, object: 'model', created: 0, owned_by: 'gateway-alias' })
    }
    return c.json({ object: 'list', data: [...data.values()] })
  }
}
