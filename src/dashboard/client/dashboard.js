// @ts-check
/// <reference types="uplot" />
/*
 * Dashboard client: draws the charts described in <script type="application/json" id="dashboard-data">
 * into <div class="chart" data-chart="<id>">, and adds a few form niceties. The pages work without it
 * (charts aside). Served as /dashboard/assets/dashboard.js after /dashboard/assets/uplot.js, under a CSP
 * with script-src 'self': no inline scripts, no eval, styles set through the CSSOM only.
 */
;(() => {
  /**
   * @typedef {'usd' | 'tokens' | 'ms' | 'count'} ChartUnit
   * @typedef {{ label: string, values: Array<number | null> }} ChartSeries
   * @typedef {{ id: string, title: string, unit: ChartUnit, kind: 'line' | 'bars', x: number[], series: ChartSeries[] }} ChartData
   * @typedef {{ charts: ChartData[] }} DashboardData
   */

  // Tableau 10: distinct in hue and lightness, readable on white.
  const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac']
  const CHART_HEIGHT_PX = 240
  const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
  const INTEGER_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2.5e3, 5e3, 1e4, 2e4, 2.5e4, 5e4, 1e5, 2e5, 2.5e5, 5e5, 1e6, 2e6, 2.5e6, 5e6, 1e7, 2e7, 2.5e7, 5e7, 1e8, 2e8, 2.5e8, 5e8, 1e9, 2e9, 5e9, 1e10, 1e11, 1e12]

  /** @param {number} n @param {number} decimals */
  const trimmed = (n, decimals) => {
    const fixed = n.toFixed(decimals)
    // Only zeros after a decimal point go: 150 stays 150, 1.50 becomes 1.5.
    return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed
  }

  /** $1,234 / $12.50 / $0.0034: cents above a dollar, three significant digits below. */
  function formatUsd(/** @type {number} */ v) {
    const abs = Math.abs(v)
    const max = abs === 0 || abs >= 1 ? 2 : Math.min(8, Math.max(2, 2 - Math.floor(Math.log10(abs))))
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: abs >= 1000 ? 0 : 2, maximumFractionDigits: abs >= 1000 ? 0 : max }).format(v)
  }

  /** 950 / 12.3k / 4.56M / 1.2B */
  function formatCompact(/** @type {number} */ v) {
    const abs = Math.abs(v)
    if (abs >= 1e9) return `${trimmed(v / 1e9, 2)}B`
    if (abs >= 1e6) return `${trimmed(v / 1e6, 2)}M`
    if (abs >= 1e3) return `${trimmed(v / 1e3, abs >= 1e5 ? 0 : 1)}k`
    return trimmed(v, abs < 10 ? 2 : 0)
  }

  /** 850 ms / 1.25 s / 2 min */
  function formatMs(/** @type {number} */ v) {
    const abs = Math.abs(v)
    if (abs >= 120_000) return `${trimmed(v / 60_000, 1)} min`
    if (abs >= 1000) return `${trimmed(v / 1000, 2)} s`
    return `${trimmed(v, abs < 10 ? 1 : 0)} ms`
  }

  /** @type {Record<ChartUnit, (v: number) => string>} */
  const FORMAT = {
    usd: formatUsd,
    tokens: formatCompact,
    ms: formatMs,
    count: (v) => (Math.abs(v) >= 1e4 ? formatCompact(v) : new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }).format(v)),
  }

  /**
   * Tick labels share one style per axis: all in s or all in ms, dollars with as many decimals as the step needs.
   * @param {ChartUnit} unit @param {number[]} splits @param {number} incr
   */
  function axisValues(unit, splits, incr) {
    if (unit === 'usd') {
      const decimals = incr >= 1 ? 0 : Math.min(8, Math.max(2, Math.ceil(-Math.log10(incr))))
      const fmt = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: decimals, maximumFractionDigits: decimals })
      return splits.map((v) => fmt.format(v))
    }
    if (unit === 'ms') {
      const top = Math.max(...splits.map(Math.abs))
      if (top >= 120_000) return splits.map((v) => `${trimmed(v / 60_000, 2)} min`)
      if (top >= 1000) return splits.map((v) => `${trimmed(v / 1000, 2)} s`)
      return splits.map((v) => `${trimmed(v, 1)} ms`)
    }
    return splits.map((v) => FORMAT[unit](v))
  }

  /** @param {ChartData} chart */
  const hasPoints = (chart) => chart.x.length > 0 && chart.series.some((s) => s.values.some((v) => v !== null && Number.isFinite(v)))

  /**
   * Bars are stacked by drawing cumulative sums, tallest first: series i is drawn at the sum of
   * series i..n-1, so each later (shorter) bar covers the bottom of the one before it.
   * @param {ChartSeries[]} series
   */
  function stackedFromTop(series) {
    /** @type {Array<Array<number | null>>} */
    const out = series.map(() => [])
    const length = Math.max(0, ...series.map((s) => s.values.length))
    for (let i = 0; i < length; i++) {
      let sum = 0
      let any = false
      for (let s = series.length - 1; s >= 0; s--) {
        const v = series[s]?.values[i]
        if (v !== null && v !== undefined && Number.isFinite(v)) {
          sum += v
          any = true
        }
        /** @type {Array<number | null>} */ (out[s])[i] = any ? sum : null
      }
    }
    return out
  }

  /** @param {number[]} x */
  function bucketSeconds(x) {
    let step = Infinity
    for (let i = 1; i < x.length; i++) step = Math.min(step, /** @type {number} */ (x[i]) - /** @type {number} */ (x[i - 1]))
    return Number.isFinite(step) && step > 0 ? step : 3600
  }

  /** The element's content width (clientWidth includes its padding). @param {HTMLElement} el */
  function widthOf(el) {
    const style = getComputedStyle(el)
    const content = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)
    return Math.max(240, Math.floor(content || 600))
  }

  /**
   * @param {ChartData} chart
   * @param {HTMLElement} el
   * @returns {uPlot}
   */
  function drawChart(chart, el) {
    const format = FORMAT[chart.unit] ?? FORMAT.count
    const bars = chart.kind === 'bars'
    const step = bucketSeconds(chart.x)
    const raw = chart.series.map((s) => s.values)
    const drawn = bars ? stackedFromTop(chart.series) : raw

    /** @type {uPlot.Series[]} */
    const series = [{ label: step >= 86_400 ? 'Day' : 'Time', value: step >= 86_400 ? '{YYYY}-{MM}-{DD}' : '{YYYY}-{MM}-{DD} {HH}:{mm}' }]
    chart.series.forEach((s, i) => {
      const colour = /** @type {string} */ (PALETTE[i % PALETTE.length])
      series.push({
        label: s.label,
        stroke: colour,
        width: bars ? 0 : 2,
        fill: bars ? colour : undefined,
        // The legend shows each series' own value, not the stacked sum it is drawn at.
        value: (_u, v, sidx, idx) => {
          const own = idx === null ? v : raw[sidx - 1]?.[idx]
          return own === null || own === undefined ? '–' : format(own)
        },
        ...(bars
          ? { paths: uPlot.paths.bars?.({ size: [0.7, 64], gap: 1 }), points: { show: false } }
          : { spanGaps: false, points: { show: chart.x.length < 60, size: 5 } }),
      })
    })

    /** @type {uPlot.Options} */
    const opts = {
      title: chart.title,
      width: widthOf(el),
      height: CHART_HEIGHT_PX,
      series,
      scales: {
        // Bars need half a bucket either side, or the first and last are cut in half.
        x: { time: true, range: (_u, min, max) => (bars ? [min - step / 2, max + step / 2] : min === max ? [min - step, max + step] : [min, max]) },
        y: { range: (_u, _min, max) => uPlot.rangeNum(0, max > 0 ? max : 1, 0.1, true) },
      },
      axes: [
        { font: AXIS_FONT, stroke: '#5b6472', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d7dbe0' } },
        {
          font: AXIS_FONT,
          stroke: '#5b6472',
          size: 64,
          grid: { stroke: '#eef0f3' },
          ticks: { stroke: '#d7dbe0' },
          incrs: chart.unit === 'usd' ? undefined : INTEGER_INCRS,
          values: (_u, splits, _axis, _space, incr) => axisValues(chart.unit, splits, incr),
        },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    }
    el.replaceChildren()
    return new uPlot(opts, [chart.x, ...drawn], el)
  }

  /** @param {HTMLElement} el @param {string} title @param {string} message */
  function showMessage(el, title, message) {
    const heading = document.createElement('div')
    heading.className = 'chart-title'
    heading.textContent = title
    const text = document.createElement('p')
    text.className = 'chart-empty'
    text.textContent = message
    el.replaceChildren(heading, text)
  }

  /** @returns {DashboardData | null} */
  function readData() {
    const script = document.getElementById('dashboard-data')
    if (!script?.textContent) return null
    try {
      return JSON.parse(script.textContent)
    } catch (err) {
      console.error('dashboard: #dashboard-data is not valid JSON', err)
      return null
    }
  }

  function drawCharts() {
    const data = readData()
    const charts = Array.isArray(data?.charts) ? /** @type {ChartData[]} */ (data?.charts) : []
    /** @type {Array<{ plot: uPlot, el: HTMLElement }>} */
    const plots = []
    let count = 0
    for (const chart of charts) {
      const el = document.querySelector(`[data-chart="${CSS.escape(chart.id)}"]`)
      if (!(el instanceof HTMLElement)) {
        console.warn(`dashboard: no element for chart ${chart.id}`)
        continue
      }
      if (!hasPoints(chart)) showMessage(el, chart.title, 'No data for this period')
      else if (typeof uPlot === 'undefined') showMessage(el, chart.title, 'Charts could not be loaded')
      else plots.push({ plot: drawChart(chart, el), el })
      count++
    }
    let frame = 0
    window.addEventListener('resize', () => {
      cancelAnimationFrame(frame)
      frame = requestAnimationFrame(() => {
        for (const { plot, el } of plots) plot.setSize({ width: widthOf(el), height: CHART_HEIGHT_PX })
      })
    })
    document.body.dataset.chartsReady = String(count)
  }

  /** <select data-autosubmit> submits its form on change (except when picking a custom range, which needs dates first). */
  function autosubmit() {
    document.addEventListener('change', (event) => {
      const select = event.target
      if (!(select instanceof HTMLSelectElement) || !select.hasAttribute('data-autosubmit') || !select.form) return
      if (select.value === 'custom' && select.form.querySelector('[data-custom-range]')) return
      select.form.requestSubmit()
    })
    // Apply buttons that only matter without JS.
    for (const el of document.querySelectorAll('[data-nojs-only]')) if (el instanceof HTMLElement) el.hidden = true
  }

  /** <form data-confirm="..."> (or a submit button with data-confirm) asks before submitting. */
  function confirmations() {
    document.addEventListener('submit', (event) => {
      const form = event.target
      if (!(form instanceof HTMLFormElement)) return
      const submitter = /** @type {SubmitEvent} */ (event).submitter
      const message = submitter?.dataset.confirm ?? form.dataset.confirm
      if (message && !window.confirm(message)) event.preventDefault()
    })
  }

  /** [data-custom-range] shows (and submits) only while its form's period is "custom". */
  function customRanges() {
    for (const range of document.querySelectorAll('[data-custom-range]')) {
      if (!(range instanceof HTMLElement)) continue
      const scope = range.closest('form') ?? document
      const controls = Array.from(scope.querySelectorAll('[name="period"]'))
      if (controls.length === 0) continue
      const update = () => {
        const custom = controls.some((c) => (c instanceof HTMLSelectElement || (c instanceof HTMLInputElement && (c.type !== 'radio' || c.checked))) && c.value === 'custom')
        range.hidden = !custom
        for (const input of range.querySelectorAll('input, select')) if (input instanceof HTMLInputElement || input instanceof HTMLSelectElement) input.disabled = !custom
      }
      for (const c of controls) c.addEventListener('change', update)
      update()
    }
  }

  /** [data-browser-tz] inputs get the browser's offset (minutes east of UTC), so days start at the viewer's midnight. */
  function browserTimeZone() {
    for (const input of document.querySelectorAll('input[data-browser-tz]')) {
      if (input instanceof HTMLInputElement) input.value = String(-new Date().getTimezoneOffset())
    }
  }

  function start() {
    browserTimeZone()
    autosubmit()
    confirmations()
    customRanges()
    drawCharts()
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true })
  else start()
})()
