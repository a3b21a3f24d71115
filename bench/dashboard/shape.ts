/**
 * The population the dashboard benchmark's usage rows are drawn from: teams of Zipf-like size
 * (a few big ones, a long tail), 3-20 keys each with one or two busy service keys, four public
 * models, three node-hosts, and an hourly traffic curve over 90 days (daily cycle, quieter
 * weekends, slow growth). Plain data; bench/dashboard/generate.ts turns it into SQL.
 */

export const HISTORY_DAYS = 90
const HOUR_MS = 3_600_000

/** Slots of the weighted pick tables: a 16-bit random modulo this picks a slot. */
export const TEAM_SLOTS = 4096
export const KEY_SLOTS = 1024

export interface BenchTeam {
  index: number
  id: string
  name: string
  /** Share of all traffic. */
  weight: number
  keys: Array<{ id: string; name: string; weight: number }>
}

/** An id shaped like the gateway's (`team_<uuid>`, `key_<uuid>`), deterministic per index. */
const uuidLike = (a: number, b: number) => `${hex(a, 8)}-0000-4000-8000-${hex(b, 12)}`
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')

/** `count` weights proportional to 1/(i+1)^s, summing to 1. */
function zipf(count: number, s: number): number[] {
  const raw = Array.from({ length: count }, (_, i) => 1 / (i + 1) ** s)
  const total = raw.reduce((a, b) => a + b, 0)
  return raw.map((w) => w / total)
}

/** 50 teams: the biggest ~22% of traffic with 20 keys, the smallest ~0.4% with 3. */
export function benchTeams(count = 50): BenchTeam[] {
  const weights = zipf(count, 1)
  return weights.map((weight, i) => {
    const keyCount = Math.max(3, Math.round(20 - (17 * Math.log(i + 1)) / Math.log(count)))
    return {
      index: i,
      id: `team_${uuidLike(0xbe7c0000 + i, 0)}`,
      name: `bench-team-${String(i).padStart(2, '0')}`,
      weight,
      keys: zipf(keyCount, 1.2).map((w, k) => ({ id: `key_${uuidLike(0xbe7c0000 + i, k + 1)}`, name: k === 0 ? 'production' : `key-${k}`, weight: w })),
    }
  })
}

/** Slot counts proportional to `weights`, summing to `slots` exactly (largest remainder), every weight at least one slot. */
export function slotsFor(weights: readonly number[], slots: number): number[] {
  const exact = weights.map((w) => w * slots)
  const out = exact.map((x) => Math.max(1, Math.floor(x)))
  let left = slots - out.reduce((a, b) => a + b, 0)
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0])
  for (let j = 0; left > 0; j = (j + 1) % order.length, left--) out[order[j]![1]]!++
  // Flooring to at least one slot can overshoot: take the excess back from the smallest weights first.
  for (let j = out.length - 1; left < 0; j = (j - 1 + out.length) % out.length) {
    if (out[j]! > 1) {
      out[j]!--
      left++
    }
  }
  return out
}

/**
 * Public models: share of requests, share served locally (the rest hosted), what each backend
 * runs, and DeepSeek's off-peak prices of the hosted model (src/metering/price-table.ts), in
 * nano-USD per token (peak hours are twice these).
 */
export const BENCH_MODELS = [
  { name: 'deepseek-flash', share: 40, localPct: 40, hosted: 'deepseek-flash', local: 'qwen3-30b-a3b-q4_k_m', hitNano: 3, missNano: 150, outNano: 600 },
  { name: 'deepseek-v4-pro', share: 15, localPct: 10, hosted: 'deepseek-v4-pro', local: 'qwen3-235b-a22b-q4_k_m', hitNano: 22, missNano: 660, outNano: 1980 },
  { name: 'moe-chat', share: 30, localPct: 80, hosted: 'deepseek-flash', local: 'qwen3-30b-a3b-q4_k_m', hitNano: 3, missNano: 150, outNano: 600 },
  { name: 'moe-coder', share: 15, localPct: 70, hosted: 'deepseek-flash', local: 'qwen3-coder-30b-a3b-q4_k_m', hitNano: 3, missNano: 150, outNano: 600 },
] as const

/** Node-hosts (NODE_HOSTS names): share of local requests, and hourly cost (hardware + power) in nano-USD per busy ms. */
export const BENCH_HOSTS = [
  { name: 'nh-epyc-a', sharePct: 45, nanoPerBusyMs: 139 },
  { name: 'nh-epyc-b', sharePct: 35, nanoPerBusyMs: 139 },
  { name: 'nh-ryzen', sharePct: 20, nanoPerBusyMs: 42 },
] as const

/** DeepSeek's peak windows, 01:00-04:00 and 06:00-10:00 UTC on weekdays (src/metering/pricing.ts isPeak). */
function isPeakHour(hourStartMs: number): boolean {
  const d = new Date(hourStartMs)
  const day = d.getUTCDay()
  const h = d.getUTCHours()
  return day >= 1 && day <= 5 && ((h >= 1 && h < 4) || (h >= 6 && h < 10))
}

export interface BenchHour {
  startMs: number
  rows: number
  /** 2 in DeepSeek's peak hours, 1 otherwise. */
  priceFactor: number
}

/**
 * The `HISTORY_DAYS * 24` hours ending with the one holding `endHourMs`, and how many of `total`
 * rows each gets: a working-day curve peaking mid-afternoon UTC with a quiet night, weekends at
 * 35%, and traffic doubling over the 90 days. Counts sum to `total` exactly.
 */
export function benchHours(endHourMs: number, total: number): BenchHour[] {
  const count = HISTORY_DAYS * 24
  const first = endHourMs - (count - 1) * HOUR_MS
  const weights = Array.from({ length: count }, (_, i) => {
    const at = new Date(first + i * HOUR_MS)
    const h = at.getUTCHours()
    const daily = 0.12 + Math.max(0, Math.sin(((h - 5) / 16) * Math.PI)) ** 1.5
    const weekend = at.getUTCDay() === 0 || at.getUTCDay() === 6 ? 0.35 : 1
    return daily * weekend * (1 + i / count)
  })
  const rows = slotsFor(weights.map((w) => w / weights.reduce((a, b) => a + b, 0)), total)
  return rows.map((n, i) => ({ startMs: first + i * HOUR_MS, rows: n, priceFactor: isPeakHour(first + i * HOUR_MS) ? 2 : 1 }))
}
