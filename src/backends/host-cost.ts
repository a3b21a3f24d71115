import { usdDecimalToNano } from '../metering/price-table-parse.js'

/**
 * What a node-host costs per hour while it works, as the operator writes it (NODE_HOSTS[].cost or
 * the NODE_HOST_* shorthand). Every part is optional and missing means 0.
 */
export interface HostCostSource {
  /** Purchase price, spread over `amortize_months`. */
  hardware_usd?: unknown
  amortize_months?: unknown
  /** Or the hardware's hourly cost directly (rent, or amortized elsewhere). */
  hardware_usd_per_hour?: unknown
  /** Draw while serving, and the electricity price. */
  watts?: unknown
  usd_per_kwh?: unknown
}

export const HOST_COST_FIELDS = ['hardware_usd', 'amortize_months', 'hardware_usd_per_hour', 'watts', 'usd_per_kwh'] as const
type HostCostField = (typeof HOST_COST_FIELDS)[number]

export class HostCostError extends Error {
  override readonly name = 'HostCostError'
}

const NANO = 1_000_000_000n
// A month is a twelfth of a Julian year: 365.25 * 24 / 12 = 730.5 hours, held doubled to stay an integer.
const HALF_HOURS_PER_MONTH = 1461n
const WHOLE_MONTHS = /^[1-9]\d{0,3}$/

/** a / b rounded half up; both non-negative, b > 0. */
function divRound(a: bigint, b: bigint): bigint {
  return (a + b / 2n) / b
}

/** A decimal string or number as an integer count of 1e-9 units, exactly: a number goes through its decimal string, never float arithmetic. */
function nanoUnits(value: unknown, where: string, example: string): bigint {
  if (value === undefined || value === null || value === '') return 0n
  const text = typeof value === 'number' ? String(value) : value
  try {
    return BigInt(usdDecimalToNano(text, where))
  } catch {
    throw new HostCostError(`${where} must be a non-negative decimal with at most 9 decimals and 6 whole digits, like ${example} (got ${JSON.stringify(value)})`)
  }
}

function months(value: unknown, where: string): bigint {
  if (value === undefined || value === null || value === '') return 0n
  const text = typeof value === 'number' ? String(value) : value
  if (typeof text !== 'string' || !WHOLE_MONTHS.test(text)) throw new HostCostError(`${where} must be a whole number of months from 1 to 9999, like 36 (got ${JSON.stringify(value)})`)
  return BigInt(text)
}

/** How errors name the cost as a whole and each field: '"box-a".cost' and '"box-a".cost.watts', or the NODE_HOST_* variables. */
export interface HostCostNames {
  whole: string
  field(field: HostCostField): string
}

/**
 * The host's hourly cost in integer nano-USD: hardware per hour (hardware_usd over amortize_months
 * of 730.5 h, or hardware_usd_per_hour) plus power (watts × usd_per_kwh / 1000). Each part is
 * rounded half up to a whole nano-USD once, from exact integers.
 * @throws HostCostError naming the field, for a bad value, an unknown field or a contradiction.
 * @example costNanoUsdPerHour({ hardware_usd_per_hour: '0.23', watts: 450, usd_per_kwh: '0.15' }, names) // 297_500_000
 */
export function costNanoUsdPerHour(raw: unknown, names: HostCostNames): number {
  if (raw === undefined || raw === null) return 0
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new HostCostError(`${names.whole} must be an object with any of ${HOST_COST_FIELDS.join(', ')}`)
  const src = raw as Record<string, unknown>
  for (const key of Object.keys(src)) {
    if (!(HOST_COST_FIELDS as readonly string[]).includes(key)) throw new HostCostError(`${names.whole}: unknown field "${key}" (allowed: ${HOST_COST_FIELDS.join(', ')})`)
  }
  const nameOf = names.field
  const hardwareNano = nanoUnits(src.hardware_usd, nameOf('hardware_usd'), '"6000"')
  const amortizeMonths = months(src.amortize_months, nameOf('amortize_months'))
  const hardwarePerHourNano = nanoUnits(src.hardware_usd_per_hour, nameOf('hardware_usd_per_hour'), '"0.23"')
  // Watts held as nano-watts, so a fractional draw ("87.5") is exact too.
  const nanoWatts = nanoUnits(src.watts, nameOf('watts'), '450')
  const usdPerKwhNano = nanoUnits(src.usd_per_kwh, nameOf('usd_per_kwh'), '"0.15"')

  if (hardwareNano > 0n && hardwarePerHourNano > 0n) throw new HostCostError(`${nameOf('hardware_usd')} and ${nameOf('hardware_usd_per_hour')} both set: give one`)
  if (hardwareNano > 0n && amortizeMonths === 0n) throw new HostCostError(`${nameOf('hardware_usd')} needs ${nameOf('amortize_months')} (how many months to spread it over)`)

  const hardware = hardwareNano > 0n ? divRound(hardwareNano * 2n, amortizeMonths * HALF_HOURS_PER_MONTH) : hardwarePerHourNano
  // nano-W × nano-USD/kWh = 1e-18 USD·W/kWh; / 1e9 -> nano-USD·W/kWh; / 1000 W per kW -> nano-USD per hour.
  const power = divRound(nanoWatts * usdPerKwhNano, NANO * 1000n)
  const total = hardware + power
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw new HostCostError(`${names.whole}: the hourly cost is too large`)
  return Number(total)
}

/** The NODE_HOST_* variables that describe the one-host shorthand's cost, by field. */
export const HOST_COST_ENV: Readonly<Record<HostCostField, string>> = {
  hardware_usd: 'NODE_HOST_HARDWARE_USD',
  amortize_months: 'NODE_HOST_AMORTIZE_MONTHS',
  hardware_usd_per_hour: 'NODE_HOST_HARDWARE_USD_PER_HOUR',
  watts: 'NODE_HOST_WATTS',
  usd_per_kwh: 'NODE_HOST_USD_PER_KWH',
}
