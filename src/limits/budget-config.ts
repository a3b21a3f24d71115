import { positiveInt, type EnvVars } from '../config-values.js'

/** Budget settings read from the environment once, at start. */
export interface BudgetConfig {
  /**
   * Output tokens reserved for a request that sets no max_tokens (BUDGET_DEFAULT_MAX_TOKENS,
   * default 8192). Such a request holds this much of its budget until it settles; an answer
   * longer than this is still billed in full, so set max_tokens where budgets must be exact.
   */
  defaultMaxTokens: number
  /** How long a budget lookup per team or key is trusted (BUDGET_CACHE_TTL_MS, default 5000, at most 30000). */
  cacheTtlMs: number
  /** How long a hold counts if its request never settles (a crashed process); BUDGET_HOLD_TTL_MS. */
  holdTtlMs: number
}


/**
 * Holds outlive the longest non-streamed request (RESPONSE_TIMEOUT_MS) by a minute, and last at
 * least 10 minutes. A stream that runs longer than this stops being held before it settles.
 */
export function parseBudgetConfig(env: EnvVars, responseTimeoutMs: number): BudgetConfig {
  return {
    defaultMaxTokens: positiveInt(env, 'BUDGET_DEFAULT_MAX_TOKENS', 8192),
    cacheTtlMs: Math.min(positiveInt(env, 'BUDGET_CACHE_TTL_MS', 5_000), 30_000),
    holdTtlMs: positiveInt(env, 'BUDGET_HOLD_TTL_MS', Math.max(600_000, responseTimeoutMs + 60_000)),
  }
}
