import type { VerifiedKey } from '../auth/key-verifier.js'
import type { Backend } from '../backends/backend.js'
import type { GatewayConfig } from '../config.js'
import { applyAutoMode } from './auto-apply.js'
import type { HostedSwitch } from './hosted-switch.js'
import type { ModelAlias } from './model-aliases.js'
import { planRoute, type BackendName, type RoutePlan } from './plan.js'

export interface RouteInputs {
  key: VerifiedKey
  model: string
  alias: ModelAlias | undefined
  bodyBytes: number
  maxTokens: number | undefined
  /** `x-moe-backend` and `x-moe-deadline-ms`, as sent. */
  overrideHeader: string | undefined
  deadlineHeader: string | undefined
  recorder: { routeReason: string | null; predictedLatencyMs: number | null }
}

/**
 * The backends to try for one request, in order: the key's mode over the team's over the
 * gateway default, a per-request override where allowed, `auto`'s latency prediction, and
 * hosted left out while DeepSeek's 402 switch is on for the team.
 */
export async function routeRequest(
  deps: { config: GatewayConfig; backends: Partial<Record<BackendName, Backend>>; hostedSwitch: HostedSwitch },
  req: RouteInputs,
): Promise<RoutePlan> {
  const { key, recorder } = req
  const mode = key.backendMode ?? key.team?.backendMode ?? deps.config.defaultBackend
  const planned = planRoute({
    mode,
    override: req.overrideHeader,
    allowOverride: key.team?.allowBackendOverride ?? false,
    available: { local: deps.backends.local !== undefined, hosted: deps.backends.hosted !== undefined },
  })
  const auto = applyAutoMode(planned, {
    mode,
    override: req.overrideHeader,
    local: deps.backends.local,
    config: deps.config.auto,
    bodyBytes: req.bodyBytes,
    model: req.model,
    localModel: req.alias?.localModel ?? req.model,
    maxTokens: req.maxTokens,
    deadlineHeader: req.deadlineHeader,
    teamDeadlineMs: key.team?.defaultDeadlineMs ?? null,
    recorder,
  })
  return deps.hostedSwitch.apply(auto, key.team, recorder)
}
