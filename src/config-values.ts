/** Environment as both runtimes hand it over: process.env on Node, bindings on Workers. */
export type EnvVars = Record<string, string | undefined>

/** A positive integer setting, or `fallback` when unset. Shared by every config parser. */
export function positiveInt(env: EnvVars, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`)
  return value
}
