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
 * Single-thread memory read bandwidth: scan a buffer much larger than cache for a byte it does not hold,
 * several passes. The scan is Buffer#indexOf, which is libc's memchr: SIMD loads back to back, as
 * llama.cpp's kernels read weights. A JavaScript loop over a Float64Array was the probe before; it is
 * bound by its own adds on some CPUs (6 GB/s on a 2-vCPU Xeon where memchr and llama.cpp's decode read
 * 12-14 GB/s). llama.cpp decodes with several threads and can pull more than one core does, so treat
 * this as a conservative (low) estimate on many-core servers; on small boxes it is close.
 */
export function measureReadBandwidth(options: BandwidthOptions = {}): BandwidthMeasurement {
  const bufferBytes = options.bufferBytes ?? 256 * 1024 * 1024
  const budgetMs = options.budgetMs ?? 2000
  const maxPasses = options.maxPasses ?? 20
  // fill() writes every page: a fresh zeroed allocation can map one shared zero page, which reads from cache.
  const data = Buffer.allocUnsafeSlow(bufferBytes).fill(0)
  scan(data) // warm-up: page faults and the first touch out of the timed passes

  const gbPerSecond: number[] = []
  const started = performance.now()
  while (gbPerSecond.length < maxPasses && (gbPerSecond.length < 3 || performance.now() - started < budgetMs)) {
    const passStart = performance.now()
    scan(data)
    const seconds = (performance.now() - passStart) / 1000
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

/** Reads every byte: the buffer holds only zeros, so the search for 1 runs to the end. */
function scan(data: Buffer): void {
  if (data.indexOf(1) !== -1) throw new Error('bandwidth probe: the buffer was changed')
}
