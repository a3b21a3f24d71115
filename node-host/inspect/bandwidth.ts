export interface BandwidthMeasurement {
  /** Fastest pass, GB/s (1e9 bytes/s). */
  bestGBs: number
  medianGBs: number
  passes: number
  bufferBytes: number
  threads: 1
}

export interface BandwidthOptions {
  /** Buffer size; must dwarf the last-level cache. Default 256 MiB. */
  bufferBytes?: number
  /** Stop after this much measuring time (warm-up excluded). Default 2000 ms. */
  budgetMs?: number
  maxPasses?: number
}

/**
 * Single-thread memory read bandwidth: sum a Float64Array much larger than cache, several passes.
 * llama.cpp decodes with several threads and can pull more than one core does, so treat this as
 * a conservative (low) estimate on many-core servers; on small boxes it is close.
 */
export function measureReadBandwidth(options: BandwidthOptions = {}): BandwidthMeasurement {
  const bufferBytes = options.bufferBytes ?? 256 * 1024 * 1024
  const budgetMs = options.budgetMs ?? 2000
  const maxPasses = options.maxPasses ?? 20
  const data = new Float64Array(Math.floor(bufferBytes / 8))
  data.fill(1) // touch every page so page faults don't land in a timed pass
  sumArray(data) // warm-up: let the JIT optimize the loop

  const gbPerSecond: number[] = []
  const started = performance.now()
  while (gbPerSecond.length < maxPasses && (gbPerSecond.length < 3 || performance.now() - started < budgetMs)) {
    const passStart = performance.now()
    const sum = sumArray(data)
    const seconds = (performance.now() - passStart) / 1000
    if (sum !== data.length) throw new Error('bandwidth probe: wrong sum') // keeps the loop from being elided
    gbPerSecond.push(data.byteLength / seconds / 1e9)
  }
  const sorted = [...gbPerSecond].sort((a, b) => a - b)
  return {
    bestGBs: sorted[sorted.length - 1]!,
    medianGBs: sorted[Math.floor(sorted.length / 2)]!,
    passes: sorted.length,
    bufferBytes: data.byteLength,
    threads: 1,
  }
}

// Four independent accumulators so the add latency chain doesn't cap throughput below memory speed.
function sumArray(data: Float64Array): number {
  let a = 0
  let b = 0
  let c = 0
  let d = 0
  const end = data.length - (data.length % 4)
  for (let i = 0; i < end; i += 4) {
    a += data[i]!
    b += data[i + 1]!
    c += data[i + 2]!
    d += data[i + 3]!
  }
  for (let i = end; i < data.length; i++) a += data[i]!
  return a + b + c + d
}
