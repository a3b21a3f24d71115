/**
 * Remembered probe verdicts: whether a model file ran with a CPU variant on this CPU and llama.cpp
 * build. Keyed by all four (a changed file, CPU or build is a new question), kept in one JSON file in
 * the cache directory, written to a temp file and renamed so readers never see half of it.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { ProbeFailStage } from './probe.js'

export type Verdict =
  | { ok: true; variant: string; atMs: number }
  | { ok: false; variant: string; stage: ProbeFailStage; reason: string; atMs: number }

export interface VerdictSubject {
  modelPath: string
  cpuModel: string
  cpuFlags: ReadonlySet<string>
  buildVersion: string
}

interface VerdictFile {
  version: 1
  entries: Record<string, Verdict & { model: string; cpu: string }>
}

export class VerdictStore {
  constructor(readonly path: string) {}

  static in(cacheDir: string): VerdictStore {
    return new VerdictStore(join(cacheDir, 'cpu-verdicts.json'))
  }

  get(subject: VerdictSubject, variant: string): Verdict | undefined {
    return this.read().entries[verdictKey(subject, variant)]
  }

  set(subject: VerdictSubject, verdict: Verdict): void {
    // Read-merge-write: another process may have added verdicts since.
    const file = this.read()
    file.entries[verdictKey(subject, verdict.variant)] = { ...verdict, model: subject.modelPath, cpu: subject.cpuModel }
    mkdirSync(dirname(this.path), { recursive: true })
    const temp = `${this.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
    writeFileSync(temp, JSON.stringify(file, null, 1))
    renameSync(temp, this.path)
  }

  /** Every verdict remembered for this model on this CPU and build, by variant. */
  forModel(subject: VerdictSubject, variants: readonly string[]): Map<string, Verdict> {
    const found = new Map<string, Verdict>()
    for (const variant of variants) {
      const verdict = this.get(subject, variant)
      if (verdict) found.set(variant, verdict)
    }
    return found
  }

  private read(): VerdictFile {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as VerdictFile
      if (parsed.version === 1 && typeof parsed.entries === 'object') return parsed
    } catch {
      // missing or unreadable: start afresh (verdicts are a cache; a probe can always redo them)
    }
    return { version: 1, entries: {} }
  }
}

function verdictKey(subject: VerdictSubject, variant: string): string {
  const file = fileIdentity(subject.modelPath)
  const cpu = `${subject.cpuModel}|${[...subject.cpuFlags].sort().join(' ')}`
  return createHash('sha256').update([file, cpu, subject.buildVersion, variant].join('\n')).digest('hex').slice(0, 32)
}

/** The file as it is now: a rewritten model (new size or mtime) is a new subject. */
function fileIdentity(path: string): string {
  try {
    const real = realpathSync(path)
    const st = statSync(real)
    return `${real}|${st.size}|${st.mtimeMs}`
  } catch {
    return path
  }
}
