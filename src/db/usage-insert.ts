import { getTableColumns, is, SQL } from 'drizzle-orm'
import { usage, type UsageRow } from './schema.js'

/** What a usage row binds: libSQL's value types. */
export type UsageArg = string | number | bigint | null

const columns = Object.entries(getTableColumns(usage)).map(([key, column]) => {
  // A SQL or computed default would have to be evaluated per row; none is used, and a new one must not slip past.
  if (is(column.default, SQL) || column.defaultFn !== undefined) throw new Error(`usage.${key}: only literal defaults are supported by usageInsertArgs`)
  return { key: key as keyof UsageRow, column }
})

/** The usage table's column names, in USAGE_INSERT_SQL's (and usageInsertArgs') order. */
export const USAGE_COLUMNS: readonly string[] = columns.map((c) => c.column.name)

/**
 * The INSERT of `rows` usage rows, the same statement text every time, so a driver can prepare it once:
 * SQLite compiles the rollup trigger into every statement it prepares, which costs far more than the
 * insert. Duplicates (a retried row) are ignored, as in insertUsageRows.
 */
export function usageInsertSql(rows: number): string {
  const tuple = `(${columns.map(() => '?').join(', ')})`
  return `insert into "usage" (${columns.map((c) => `"${c.column.name}"`).join(', ')}) values ${Array.from({ length: rows }, () => tuple).join(', ')} on conflict ("id") do nothing`
}

/** One usage row's INSERT. */
export const USAGE_INSERT_SQL = usageInsertSql(1)

/** Rows per multi-row INSERT: under SQLite's oldest bound-parameter limit (999), 32 at most. */
export const USAGE_INSERT_CHUNK_ROWS = Math.max(1, Math.min(32, Math.floor(999 / columns.length)))

/** The row's values in USAGE_INSERT_SQL's order, mapped and defaulted as drizzle's insert maps them. */
export function usageInsertArgs(row: UsageRow): UsageArg[] {
  const args = new Array<UsageArg>(columns.length)
  for (let i = 0; i < columns.length; i++) {
    const { key, column } = columns[i]!
    const value = row[key] === undefined ? column.default : row[key] // drizzle's rule: only a missing value takes the default
    args[i] = value === null || value === undefined ? null : (column.mapToDriverValue(value) as UsageArg)
  }
  return args
}
