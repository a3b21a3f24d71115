/**
 * CSV as RFC 4180 has it (CRLF lines, quotes doubled inside quoted fields), with text cells that a
 * spreadsheet would run as a formula defused by a leading apostrophe (OWASP "CSV Injection").
 */

/** A number written as given, e.g. an exact USD decimal: never treated as text. */
export interface CsvDecimal {
  decimal: string
}

export type CsvCell = string | number | boolean | null | CsvDecimal

// Spreadsheets read these first characters as the start of a formula (tab and CR too, per OWASP).
const FORMULA_START = /^[=+\-@\t\r]/

/** One text cell: formula-guarded, quoted when it holds a comma, quote or line break. */
export function csvText(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

function cell(value: CsvCell): string {
  if (value === null) return ''
  if (typeof value === 'string') return csvText(value)
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  return value.decimal
}

export function csvLine(cells: readonly CsvCell[]): string {
  return `${cells.map(cell).join(',')}\r\n`
}

/**
 * A CSV body read page by page as the client downloads it: the next page is fetched only when
 * the previous one has been taken, so a million-row export never sits in memory.
 * @example new Response(csvStream(['id'], pagesOfRows()), { headers })
 */
export function csvStream(header: readonly string[], pages: AsyncIterator<ReadonlyArray<readonly CsvCell[]>>, onError: (err: unknown) => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  let headerSent = false
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true
          controller.enqueue(encoder.encode(csvLine(header)))
          return
        }
        try {
          const { done, value } = await pages.next()
          if (done) controller.close()
          else controller.enqueue(encoder.encode(value.map(csvLine).join('')))
        } catch (err) {
          onError(err)
          // A cut-off download, not a complete-looking file missing rows.
          controller.error(err)
        }
      },
      async cancel() {
        await pages.return?.()
      },
    },
    { highWaterMark: 0 },
  )
}
