/**
 * A local request's claim on its node-host, as the pool hands it to metering
 * (src/backends/pool-response.ts).
 */
export interface HostShare {
  /** The node-host's cost while busy (hardware + power), integer nano-USD per hour. */
  readonly costNanoUsdPerHour: number
  /**
   * Stops counting this request on its host's busy clock, if the pool has not already (body read,
   * failed, cancelled or aborted), and returns its share in ms. Every later call returns the same
   * value, so whoever reads it first fixes it: it can never be read half-counted and then grow.
   */
  settleBusyMs(): number
}

const MS_PER_HOUR = 3_600_000n

/** rate × busy / 1 h, rounded half up to a whole nano-USD, in exact integers. */
export function localCostNanoUsd(costNanoUsdPerHour: number, busyMs: number): number {
  if (!Number.isSafeInteger(costNanoUsdPerHour) || costNanoUsdPerHour < 0) throw new RangeError(`local cost: rate must be a non-negative integer, got ${costNanoUsdPerHour}`)
  if (!Number.isSafeInteger(busyMs) || busyMs < 0) throw new RangeError(`local cost: busyMs must be a non-negative integer, got ${busyMs}`)
  const cost = (BigInt(costNanoUsdPerHour) * BigInt(busyMs) + MS_PER_HOUR / 2n) / MS_PER_HOUR
  return cost > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(cost)
}
