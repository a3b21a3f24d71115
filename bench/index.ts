/**
 * `npm run bench`: every benchmark, side by side in one run; prints the tables and writes
 * bench/RESULTS.md (bench/report.ts). Set BENCH_QUICK=1 for a short smoke run (labelled so).
 * A benchmark that throws is reported as not measured; the others still run.
 */
import { writeFileSync } from 'node:fs'
import { benchCpuVariants } from './cpu-variants.js'
import { benchDashboard, DASHBOARD_HEADER, dashboardRounds, dashboardRows, dashboardSummary, dashboardTitle, shortCount } from './dashboard.js'
import { benchGatewayOverhead } from './gateway-overhead.js'
import { benchLlamaServer, LLAMA_SERVER_HEADER } from './llama-server.js'
import { benchNodeHostBandwidth } from './node-host-bandwidth.js'
import { benchNodeHostBatching } from './node-host-batching.js'
import { benchNodeHostVsDirect } from './node-host-vs-direct.js'
import { benchPageCache, PAGE_CACHE_HEADER } from './page-cache.js'
import { PROXY_HEADER, proxySummary } from './proxy-table.js'
import { describeMachine, renderReport, renderSection, type Section, type SummaryRow } from './report.js'
import { benchStreaming } from './streaming.js'
import { benchUsageWriter } from './usage-writer.js'
import { writeDashboardAssets } from '../scripts/dashboard-assets.js'

// Before any benchmark: the gateway under test (bench/servers/gateway.ts, a child process) embeds it.
writeDashboardAssets()

const quick = process.env.BENCH_QUICK === '1'
const startedAt = new Date()
const atStart = describeMachine()
const sections: Section[] = []
const summary: SummaryRow[] = []

/** Runs one benchmark, prints its table, and adds `pick(rows)` to the summary. */
async function section(title: string, short: string, header: string[], run: () => Promise<{ rows: string[][] }>, pick: (rows: string[][]) => Array<[string, string]>): Promise<void> {
  let s: Section
  try {
    const { rows } = await run()
    s = { title, header, rows }
    for (const [measure, result] of pick(rows)) summary.push({ benchmark: short, measure, result })
  } catch (err) {
    s = { title, header, rows: [], error: err instanceof Error ? err.message.split('\n')[0]! : String(err) }
    summary.push({ benchmark: short, measure: '-', result: `not measured (failed: ${s.error})` })
  }
  sections.push(s)
  process.stdout.write(`${renderSection(s)}\n`)
}

/** The ratio column (last) of every row whose first cell is a measure. */
const lastColumn = (rows: string[][]) => rows.filter((r) => r.at(-1) !== '-').map((r): [string, string] => [r[0]!, r.at(-1)!])

process.stdout.write(`machine: ${atStart.cores} x ${atStart.cpuModel}, Node ${atStart.node}, load ${atStart.loadAvg.join(' ')}${quick ? ' (quick mode)' : ''}\n\n`)

// Portkey's gateway is installed by the bench itself (bench/peers/portkey.ts), outside the project's dependencies.
await section('Gateway vs raw pass-through vs Portkey (Node, loopback, fake upstream)', 'gateway overhead', PROXY_HEADER,
  () => benchGatewayOverhead(quick ? { rounds: 2, latencyN: 50, ttfbN: 20, throughputMs: 500 } : {}), (rows) => proxySummary(rows.filter((r) => !r[0]!.startsWith('p99'))))
await section('Streaming throughput and CPU per SSE event: gateway vs raw pass-through vs Portkey (Node, loopback, fake upstream)', 'streaming', PROXY_HEADER,
  () => benchStreaming(quick ? { rounds: 2, streams: 16, contentTokens: 100 } : {}), proxySummary)
await section("Usage rows: the gateway's usage writer vs raw client.batch of single-row INSERTs (rows/s)", 'usage writer rows/s', ['database', 'raw client.batch', 'gateway writer', 'writer vs raw'],
  () => benchUsageWriter(quick ? { rounds: 2, rowsPerRound: 2_000 } : {}), lastColumn)
// node-host on the generated bench-size models (real llama.cpp); quick mode: short runs, Q8_0 only.
// First: it leaves the models evicted, so the node-hosts after it start as a first start after boot does.
await section('How the page cache holds a model: decode from a cold start vs from pages faulted in one by one (1 thread, streamed)', 'page cache', PAGE_CACHE_HEADER,
  () => benchPageCache(quick ? { quants: ['q8_0'], rounds: 2, maxTokens: 32 } : {}),
  (rows) => rows.filter((r) => r[0] !== 'setup').map((r): [string, string] => [`${r[0]}: decode tok/s, cold start vs faulted page by page`, r[3]!]))
await section('node-host vs node-llama-cpp direct (decode, 1 thread)', 'node-host vs direct', ['measure', 'direct node-llama-cpp', 'node-host', 'node-host vs direct'],
  () => benchNodeHostVsDirect(quick ? { rounds: 2, maxTokens: 32 } : {}), (rows) => lastColumn(rows.slice(0, 2)))
await section('node-host memory bandwidth use and inspect prediction (decode, 1 thread, streamed)', 'node-host bandwidth', ['model', 'weight MB read/token', 'decode tok/s', 'of single-thread bandwidth', 'inspect predicted tok/s', 'prediction error'],
  () => benchNodeHostBandwidth(quick ? { quants: ['q8_0'], rounds: 2, maxTokens: 32, bandwidthBudgetMs: 300 } : {}),
  (rows) => rows.filter((r) => r[0]!.startsWith('llama-moe')).map((r): [string, string] => [`${r[0]}: decode vs single-thread bandwidth; inspect prediction error`, `${r[3]}; ${r[5]}`]))
await section('Decode tok/s by llama.cpp CPU variant (node-host, 1 thread)', 'cpu variants', ['model', 'variant', 'decode tok/s', 'vs best'],
  () => benchCpuVariants(quick ? { rounds: 2, maxTokens: 32, quants: ['q8_0'] } : {}),
  (rows) => rows.filter((r) => r[3] !== '1' && r[0] !== 'setup').map((r): [string, string] => [`${r[0]}: ${r[1]} vs best`, r[3]!]))
await section('node-host continuous batching (--parallel 4, --batching auto, 1 thread, Q8_0 and F16), beside the expert-overlap ceiling and llama.cpp in lock step', 'node-host batching', ['concurrent streams', 'aggregate tok/s', 'per stream tok/s', 'vs 1 stream', 'first-token stagger (ms)'],
  () => benchNodeHostBatching(quick ? { rounds: 1, maxTokens: 32, quants: ['q8_0'] } : {}),
  (rows) => rows.filter((r) => !/^1( |$)/.test(r[0]!)).map((r): [string, string] => [`aggregate tok/s, ${r[0]} streams vs 1`, r[3]!]))
// Where Debian ships llama-server, or LLAMA_SERVER_BIN names one (bench/llama-server.ts); otherwise one row says why not.
await section('node-host vs llama.cpp llama-server (Debian package or LLAMA_SERVER_BIN)', 'llama-server', LLAMA_SERVER_HEADER,
  () => benchLlamaServer(quick ? { rounds: 2, maxTokens: 32 } : {}),
  (rows) => rows.filter((r) => r[0] !== 'setup').map((r): [string, string] => [r[0]!, r[4] !== '-' ? r[4]! : r[1]!]))
// Dashboards over a generated (and cached) libSQL file: 10M usage rows, 200k in quick mode (BENCH_DASHBOARD_ROWS overrides).
const dashboardRowCount = dashboardRows(quick)
await section(dashboardTitle(dashboardRowCount), `dashboard at ${shortCount(dashboardRowCount)} usage rows`, DASHBOARD_HEADER,
  () => benchDashboard({ rows: dashboardRowCount, rounds: dashboardRounds(quick), rawRounds: quick ? 2 : 5 }), dashboardSummary)

const report = renderReport({ startedAt, finishedAt: new Date(), quick, atStart, atEnd: describeMachine(), summary, sections })
writeFileSync(new URL('./RESULTS.md', import.meta.url), report)
process.stdout.write(`${report.split('## Summary')[1]?.split('\n## ')[0] ?? ''}\nwrote bench/RESULTS.md\n`)
