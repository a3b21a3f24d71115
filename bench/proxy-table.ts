/**
 * The table the gateway benchmarks print for the three proxies (bench/proxy-targets.ts): each proxy's
 * median (min-max) over rounds, then gateway vs raw, gateway vs Portkey and Portkey vs raw, each taken
 * round by round (the proxies ran back to back within a round) before the median.
 */
import { PORTKEY_VERSION } from './peers/portkey.js'
import type { TargetName } from './proxy-targets.js'
import { percentile, spread } from './support.js'

export const PROXY_HEADER = ['measure', 'raw node:http + undici', 'gateway', `Portkey ${PORTKEY_VERSION}`, 'gateway vs raw', 'gateway vs Portkey', 'Portkey vs raw']

/** One round's figure for each proxy that ran. */
export type Round = Partial<Record<TargetName, number>>

const PAIRS: ReadonlyArray<[TargetName, TargetName]> = [['gateway', 'raw'], ['gateway', 'portkey'], ['portkey', 'raw']]

export interface ProxyRowSpec {
  /** 'added': a - b, in `unit`; 'ratio': a / b. */
  compare: 'added' | 'ratio'
  digits: number
  unit?: string
  /** The targets, printed beside the gateway's own figure or a comparison. */
  targets?: { gateway?: string; gatewayVsRaw?: string; gatewayVsPortkey?: string }
}

const valuesOf = (rounds: Round[], name: TargetName) => rounds.flatMap((r) => (r[name] === undefined ? [] : [r[name]]))
const withTarget = (text: string, target: string | undefined) => (target ? `${text} (target ${target})` : text)

/** Per-round a - b or a / b, or nothing when one of them did not run. */
export function pairwise(rounds: Round[], a: TargetName, b: TargetName, compare: ProxyRowSpec['compare']): number[] {
  return rounds.flatMap((r) => (r[a] === undefined || r[b] === undefined ? [] : [compare === 'added' ? r[a] - r[b] : r[a] / r[b]]))
}

/** One measure: the three proxies' figures and the three comparisons. */
export function proxyRow(measure: string, rounds: Round[], spec: ProxyRowSpec): string[] {
  const figure = (name: TargetName) => {
    const values = valuesOf(rounds, name)
    return values.length ? spread(values, spec.digits) : 'not measured'
  }
  const comparisons = PAIRS.map(([a, b], i) => {
    const values = pairwise(rounds, a, b, spec.compare)
    if (!values.length) return '-'
    const text = spec.compare === 'ratio' ? `ratio ${spread(values, 3)}` : `${b === 'raw' ? 'added ' : 'difference '}${spread(values, spec.digits)} ${spec.unit ?? ''}`.trimEnd()
    return withTarget(text, [spec.targets?.gatewayVsRaw, spec.targets?.gatewayVsPortkey, undefined][i])
  })
  return [measure, figure('raw'), withTarget(figure('gateway'), spec.targets?.gateway), figure('portkey'), ...comparisons]
}

/** The worst round of each proxy's added figure over raw (with few rounds, the max). */
export function addedP99Row(measure: string, rounds: Round[], digits: number): string[] {
  const p99 = (name: TargetName) => {
    const added = pairwise(rounds, name, 'raw', 'added')
    return added.length ? percentile(added, 99).toFixed(digits) : '-'
  }
  return [measure, '-', '-', '-', p99('gateway'), '-', p99('portkey')]
}

/** Said once per table when Portkey did not run. */
export function portkeyMissingRow(reason: string): string[] {
  return ['Portkey', '-', '-', `not measured (${reason})`, '-', '-', '-']
}

/** Where the proxies and the load ran (bench/cpu-pinning.ts); not a measure, so not in the summary. */
export function setupRow(cpus: string): string[] {
  return ['setup', cpus, '-', '-', '-', '-', '-']
}

/** Summary lines: the gateway's own figure where it has a target, every comparison, and Portkey's absence. */
export function proxySummary(rows: string[][]): Array<[string, string]> {
  return rows.flatMap((row): Array<[string, string]> => {
    if (row[0] === 'setup') return []
    if (row[0] === 'Portkey') return [['Portkey', row[3]!]]
    const own: Array<[string, string]> = row[2]!.includes('(target') ? [[`${row[0]}: gateway`, row[2]!]] : []
    return [...own, ...row.slice(4).flatMap((cell, i): Array<[string, string]> => (cell === '-' ? [] : [[`${row[0]}: ${PROXY_HEADER[4 + i]}`, cell]]))]
  })
}
