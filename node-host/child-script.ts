/**
 * Runs one of node-host's TypeScript files in a child process (through tsx's loader) with a JSON
 * request as its argument, and gathers what it printed: for work that may make llama.cpp abort(),
 * which only a separate process survives (the CPU-variant probe, inspect's compute probe).
 * @example const { code, stdout } = await runChildScript(CHILD, request, { timeoutMs: 60_000, stderrTailChars: 4000 })
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href

export interface ChildScriptResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  /** The last `stderrTailChars` of what it wrote on stderr. */
  stderr: string
}

/** Resolves when the child has exited; it is SIGKILLed after `timeoutMs`. */
export function runChildScript(script: string, request: unknown, opts: { timeoutMs: number; stderrTailChars: number }): Promise<ChildScriptResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, script, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-opts.stderrTailChars) })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}
