import { html } from 'hono/html'
import { day } from '../format.js'
import type { Period } from '../report-types.js'
import type { Html } from './layout.js'
import { flag } from './parts.js'

const PERIODS: ReadonlyArray<[Period['name'], string]> = [['today', 'Today'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['custom', 'Custom range']]

/**
 * The period controls of a GET filter form: period, the custom range's dates (shown by
 * dashboard.js only while period=custom) and the viewer's time-zone offset, carried along.
 */
export function periodFields(period: Period, params: URLSearchParams): Html {
  const tz = period.tzOffsetMin
  const from = params.get('from') ?? day(period.fromMs, tz)
  const to = params.get('to') ?? day(period.toMs - 1, tz)
  return html`<label>Period <select name="period" data-autosubmit data-testid="filter-period">${PERIODS.map(([value, label]) => html`<option value="${value}"${flag(value === period.name, 'selected')}>${label}</option>`)}</select></label>
<span class="form-row" data-custom-range><label>From <input type="date" name="from" value="${from}" data-testid="filter-from"></label><label>To <input type="date" name="to" value="${to}" data-testid="filter-to"></label></span>
${tz !== 0 ? html`<input type="hidden" name="tz" value="${tz}">` : ''}`
}
