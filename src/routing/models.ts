/**
 * Public model names and what each backend is asked for.
 *
 * DeepSeek's current models are `deepseek-flash` and `deepseek-v4-pro`. Older names are
 * mapped here, explicitly, so clients written against them keep working and are billed
 * at the price of the model that actually serves them:
 * - `deepseek-v4-flash`: the earlier name of `deepseek-flash`.
 * - `deepseek-chat`: `deepseek-flash` in non-thinking mode.
 * - `deepseek-reasoner`: `deepseek-flash` in thinking mode (`thinking: {type: "enabled"}`).
 * DeepSeek retired or aliased these on 2026-07-24; mapping them ourselves means the
 * gateway never depends on which of them upstream still answers.
 */
export interface HostedModel {
  upstream: string
  /** Thinking mode forced by a legacy name; undefined leaves the client's choice alone. */
  thinking?: 'enabled' | 'disabled'
  legacy: boolean
}

export const HOSTED_MODELS: Readonly<Record<string, HostedModel>> = {
  'deepseek-flash': { upstream: 'deepseek-flash', legacy: false },
  'deepseek-v4-pro': { upstream: 'deepseek-v4-pro', legacy: false },
  'deepseek-v4-flash': { upstream: 'deepseek-flash', legacy: true },
  'deepseek-chat': { upstream: 'deepseek-flash', thinking: 'disabled', legacy: true },
  'deepseek-reasoner': { upstream: 'deepseek-flash', thinking: 'enabled', legacy: true },
}

export function hostedModelFor(publicName: string): HostedModel | undefined {
  return Object.hasOwn(HOSTED_MODELS, publicName) ? HOSTED_MODELS[publicName] : undefined
}

/** Rewrites a chat body for DeepSeek: upstream model name and any thinking mode the legacy name implies. */
export function hostedBody(body: Record<string, unknown>, model: HostedModel): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body, model: model.upstream }
  if (model.thinking && out.thinking === undefined) out.thinking = { type: model.thinking }
  return out
}
