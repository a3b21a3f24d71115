import { readdirSync, readFileSync } from 'node:fs'

/** Resident set size of a process in bytes, from /proc/<pid>/status (Linux). */
export function rssBytesOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(kb[1]) * 1024
}

/** Open file descriptors of a process (Linux). */
export function openFdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/** The soft "Max open files" limit of a process (Linux); Infinity for unlimited. */
export function maxOpenFilesOf(pid: number): number {
  const line = /^Max open files\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))
  if (!line) throw new Error(`no open-files limit for pid ${pid}`)
  return line[1] === 'unlimited' ? Infinity : Number(line[1])
}
