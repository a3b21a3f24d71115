/**
 * Vitest global setup: a fresh node-host cache directory (CPU variant folders and probe verdicts) for
 * the run, so every run proves each generated model on the CPU it runs on, once, shared by all workers.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let dir: string | undefined

export function setup(): void {
  dir = mkdtempSync(join(tmpdir(), 'moe-node-host-cache-'))
  // Workers are forked after global setup, so they inherit it.
  process.env.NODE_HOST_CACHE_DIR = dir
}

export function teardown(): void {
  if (dir) rmSync(dir, { recursive: true, force: true })
}
