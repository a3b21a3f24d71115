export const TIMED_OUT = Symbol('timed out')

/**
 * `p`, or TIMED_OUT when it has not settled within `ms` (at once when `ms` <= 0). The timer is
 * cleared either way; `p` is left running, its rejection handled (whoever abandons it cancels it).
 * @example const next = await within(reader.read(), idleMs); if (next === TIMED_OUT) giveUp()
 */
export function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  if (ms <= 0) return Promise.resolve(TIMED_OUT)
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)))
  return Promise.race([p, expired]).finally(() => clearTimeout(timer))
}
