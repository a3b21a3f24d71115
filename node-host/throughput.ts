/**
 * Moving averages over the most recent requests: tokens/s as total tokens over total time in the window
 * (so one tiny request does not swing the figure), and mean request duration for Retry-After.
 */

export interface ThroughputWindow {
  record(sample: { prefillTokens: number; prefillMs: number; decodeTokens: number; decodeMs: number; durationMs: number }): void
  /** undefined until a request has measured it. */
  readonly prefillTokensPerSecond: number | undefined
  readonly decodeTokensPerSecond: number | undefined
  readonly meanRequestSeconds: number | undefined
}

export function createThroughputWindow(size = 20): ThroughputWindow {
  const samples: Array<{ prefillTokens: number; prefillMs: number; decodeTokens: number; decodeMs: number; durationMs: number }> = []
  const rate = (tokens: (s: (typeof samples)[number]) => number, ms: (s: (typeof samples)[number]) => number) => {
    let t = 0
    let m = 0
    for (const s of samples) {
      t += tokens(s)
      m += ms(s)
    }
    return m > 0 && t > 0 ? (t * 1000) / m : undefined
  }
  return {
    record(sample) {
      samples.push(sample)
      if (samples.length > size) samples.shift()
    },
    get prefillTokensPerSecond() {
      return rate((s) => s.prefillTokens, (s) => s.prefillMs)
    },
    get decodeTokensPerSecond() {
      return rate((s) => s.decodeTokens, (s) => s.decodeMs)
    },
    get meanRequestSeconds() {
      if (samples.length === 0) return undefined
      return samples.reduce((sum, s) => sum + s.durationMs, 0) / samples.length / 1000
    },
  }
}
