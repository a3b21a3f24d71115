/** The benchmark report: machine description, a summary of side-by-side ratios, the detailed tables. */
import { cpus, loadavg, totalmem } from 'node:os'

export interface Machine {
  cores: number
  cpuModel: string
  ramGiB: number
  node: string
  /** 1, 5 and 15 minute load averages. */
  loadAvg: [number, number, number]
}

export function describeMachine(): Machine {
  const [one, five, fifteen] = loadavg() as [number, number, number]
  return { cores: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown cpu', ramGiB: totalmem() / 2 ** 30, node: process.version, loadAvg: [one, five, fifteen] }
}

const load = (m: Machine) => m.loadAvg.map((v) => v.toFixed(2)).join(' / ')

/** One line of the summary: what was compared, and the ratio (or difference) measured in this run. */
export interface SummaryRow {
  benchmark: string
  measure: string
  result: string
}

/** A section's detailed table. */
export interface Section {
  title: string
  header: string[]
  rows: string[][]
  /** Set when the benchmark threw: the report keeps going and says so. */
  error?: string
}

export function markdownTable(header: string[], rows: string[][]): string {
  const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ')
  return [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n')
}

export function renderSection(s: Section): string {
  const body = s.error ? `Not measured: the benchmark failed (${s.error}).` : markdownTable(s.header, s.rows)
  return `## ${s.title}\n\n${body}\n`
}

export function renderReport(opts: { startedAt: Date; finishedAt: Date; quick: boolean; atStart: Machine; atEnd: Machine; summary: SummaryRow[]; sections: Section[] }): string {
  const { atStart: m } = opts
  const minutes = ((opts.finishedAt.getTime() - opts.startedAt.getTime()) / 60_000).toFixed(1)
  return [
    '# Benchmark results',
    '',
    opts.quick ? '**Quick mode (`BENCH_QUICK=1`): short smoke runs, few rounds. Numbers are indicative only.**\n' : '',
    `- Date: ${opts.startedAt.toISOString()} (took ${minutes} min)`,
    `- Machine: ${m.cores} x ${m.cpuModel}, ${m.ramGiB.toFixed(1)} GiB RAM, Node ${m.node}, ${process.platform} ${process.arch}`,
    `- Load average (1/5/15 min): ${load(m)} at start, ${load(opts.atEnd)} at end. The machine is shared; compare ratios, not absolute numbers.`,
    `- Rerun: \`npm run bench\` (full, several minutes; writes this file) or \`BENCH_QUICK=1 npm run bench\` (smoke run; also writes it, labelled quick).`,
    '',
    'Every ratio compares two things measured side by side in this run, rounds interleaved (A B, B A, ...): median over rounds, min-max in parentheses.',
    '',
    '## Summary',
    '',
    markdownTable(['benchmark', 'measure', 'result'], opts.summary.map((r) => [r.benchmark, r.measure, r.result])),
    '',
    ...opts.sections.map(renderSection),
  ].join('\n')
}
