/**
 * Upper bounds (exclusive, ms) of the latency histogram buckets kept in usage_hourly; the last
 * bucket is open. Roughly x1.5 apart, so a percentile read off them is within one bucket's width.
 * The rollup trigger (migrations/0008_usage_rollups.sql) hard-codes the same bounds; a test
 * checks that they agree.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = [
  25, 50, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 12000, 16000, 24000, 32000, 48000, 64000, 120000,
]

/** Bucket count: one per bound, plus the open one above the last bound. */
export const LATENCY_BUCKETS = LATENCY_BUCKET_BOUNDS_MS.length + 1

export function latencyBucketOf(ms: number): number {
  const i = LATENCY_BUCKET_BOUNDS_MS.findIndex((bound) => ms < bound)
  return i === -1 ? LATENCY_BUCKET_BOUNDS_MS.length : i
}

/**
 * The q-quantile (0..1) of a histogram, interpolated linearly inside the bucket it falls in;
 * null for an empty histogram. The open top bucket answers its lower bound.
 */
export function quantileOf(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const rank = q * total
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] ?? 0
    if (n > 0 && seen + n >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BUCKET_BOUNDS_MS[i - 1] ?? 0)
      const upper = LATENCY_BUCKET_BOUNDS_MS[i]
      if (upper === undefined) return lower
      return Math.round(lower + ((rank - seen) / n) * (upper - lower))
    }
    seen += n
  }
  return LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_BOUNDS_MS.length - 1] ?? 0
}
