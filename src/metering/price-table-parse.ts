/**
 * Price tables: their types, the strict parser used for operator overrides
 * (`PRICE_TABLE` env var or file), and merging an override over the built-in table.
 *
 * Prices enter as decimal USD-per-1M-token strings ("0.30") and are held as integer
 * nano-USD per 1M tokens (0.30 USD = 300_000_000), converted digit by digit: no float
 * ever touches a price.
 */

/** Integer nano-USD (1 USD = 1e9) per 1,000,000 tokens, for each kind of token. */
export interface RatesNanoUsdPerMillion {
  readonly cacheHit: number
  readonly cacheMiss: number
  readonly output: number
}

export interface PriceEntry {
  readonly model: string
  /** ISO-8601 UTC instant from which this entry is in force, as written in the source. */
  readonly effectiveFrom: string
  readonly effectiveFromMs: number
  readonly peak: RatesNanoUsdPerMillion
  readonly offPeak: RatesNanoUsdPerMillion
}

/** Entries sorted by model, then effectiveFrom ascending; at most one per (model, effectiveFrom). */
export type PriceTable = readonly PriceEntry[]

/** The JSON shape operators write: USD per 1M tokens as decimal strings. */
export interface PriceEntrySource {
  model: string
  effectiveFrom: string
  peak: { cacheHit: string; cacheMiss: string; output: string }
  offPeak: { cacheHit: string; cacheMiss: string; output: string }
}
export type PriceTableSource = readonly PriceEntrySource[]

export class PriceTableError extends Error {
  override readonly name = 'PriceTableError'
}

const NANO_PER_USD = 1_000_000_000
/**
 * Up to 9 decimals: finer than 1 nano-USD per 1M tokens cannot be held as an integer.
 * Up to 6 whole digits (< 1M USD per 1M tokens), so a rate stays below 1e15 nano-USD, well inside 2^53.
 */
const USD_DECIMAL = /^(\d{1,6})(?:\.(\d{1,9}))?$/
/** UTC only ("Z"), so an entry cannot silently mean a different instant on another machine. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/
const ENTRY_KEYS = ['model', 'effectiveFrom', 'peak', 'offPeak'] as const
const RATE_KEYS = ['cacheHit', 'cacheMiss', 'output'] as const

/** "1.32" -> 1_320_000_000. Exact; rejects anything that is not a plain non-negative decimal string. */
export function usdDecimalToNano(value: unknown, where: string): number {
  if (typeof value !== 'string') {
    throw new PriceTableError(`${where}: expected a decimal USD string like "0.30" (numbers are refused so no float rounding can creep in), got ${JSON.stringify(value)}`)
  }
  const match = USD_DECIMAL.exec(value)
  if (!match) throw new PriceTableError(`${where}: "${value}" is not a decimal USD amount with at most 9 decimals, like "0.30"`)
  const whole = Number(match[1])
  const fraction = Number((match[2] ?? '').padEnd(9, '0'))
  return whole * NANO_PER_USD + fraction
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function rejectUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new PriceTableError(`${where}: unknown field "${key}" (allowed: ${allowed.join(', ')})`)
  }
}

function parseRates(value: unknown, where: string): RatesNanoUsdPerMillion {
  if (!isPlainObject(value)) throw new PriceTableError(`${where}: expected an object with ${RATE_KEYS.join(', ')}`)
  rejectUnknownKeys(value, RATE_KEYS, where)
  for (const key of RATE_KEYS) if (!(key in value)) throw new PriceTableError(`${where}.${key}: missing`)
  return {
    cacheHit: usdDecimalToNano(value.cacheHit, `${where}.cacheHit`),
    cacheMiss: usdDecimalToNano(value.cacheMiss, `${where}.cacheMiss`),
    output: usdDecimalToNano(value.output, `${where}.output`),
  }
}

function parseEffectiveFrom(value: unknown, where: string): number {
  if (typeof value !== 'string' || !ISO_UTC.test(value)) {
    throw new PriceTableError(`${where}: expected an ISO-8601 UTC instant like "2026-09-09T16:00:00Z", got ${JSON.stringify(value)}`)
  }
  const ms = Date.parse(value)
  // Date.parse rolls "2026-02-30" over to March; the round trip catches it.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== value.slice(0, 19)) {
    throw new PriceTableError(`${where}: "${value}" is not a real calendar instant`)
  }
  return ms
}

function parseEntry(value: unknown, where: string): PriceEntry {
  if (!isPlainObject(value)) throw new PriceTableError(`${where}: expected an object`)
  rejectUnknownKeys(value, ENTRY_KEYS, where)
  const { model } = value
  if (typeof model !== 'string' || model.trim() === '' || model !== model.trim()) {
    throw new PriceTableError(`${where}.model: expected a non-empty model name without surrounding spaces, got ${JSON.stringify(model)}`)
  }
  return {
    model,
    effectiveFrom: value.effectiveFrom as string,
    effectiveFromMs: parseEffectiveFrom(value.effectiveFrom, `${where}.effectiveFrom`),
    peak: parseRates(value.peak, `${where}.peak`),
    offPeak: parseRates(value.offPeak, `${where}.offPeak`),
  }
}

function sortEntries(entries: PriceEntry[]): PriceTable {
  return entries.sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : a.effectiveFromMs - b.effectiveFromMs))
}

/**
 * Validates a price table strictly: a JSON array of entries, no unknown fields, decimal-string
 * prices, UTC instants, and no two entries for the same model at the same instant.
 * @throws PriceTableError naming the offending path, e.g. `[1].peak.output`.
 * @example parsePriceTable(JSON.parse(env.PRICE_TABLE))
 */
export function parsePriceTable(json: unknown): PriceTable {
  if (!Array.isArray(json)) throw new PriceTableError('price table: expected a JSON array of entries')
  const entries = json.map((entry, i) => parseEntry(entry, `[${i}]`))
  const seen = new Set<string>()
  for (const [i, entry] of entries.entries()) {
    const key = `${entry.model}@${entry.effectiveFromMs}`
    if (seen.has(key)) throw new PriceTableError(`[${i}]: a second entry for ${entry.model} effective ${entry.effectiveFrom}`)
    seen.add(key)
  }
  return Object.freeze(sortEntries(entries))
}

/**
 * Lays an operator's table over the built-in one. For every model the override mentions,
 * the override's entries replace all of the base's entries for that model, so an operator's
 * price can never be shadowed by a later-dated built-in entry they did not know about.
 * Models the override does not mention keep their base entries.
 */
export function mergePriceTables(base: PriceTable, override: PriceTable): PriceTable {
  const overridden = new Set(override.map((e) => e.model))
  return Object.freeze(sortEntries([...base.filter((e) => !overridden.has(e.model)), ...override]))
}
