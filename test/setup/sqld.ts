/**
 * Vitest global setup: one real sqld on a free loopback port for the whole run, migrated once.
 * Tests read its URL with `inject('sqldUrl')` and keep apart by using their own teams.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { openNodeDb } from '../../src/node/open-db.js'
import { startSqld, type SqldProcess } from '../support/sqld.js'

declare module 'vitest' {
  export interface ProvidedContext {
    sqldUrl: string
  }
}

let sqld: SqldProcess | undefined
let dir: string | undefined

export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'moe-sqld-'))
  sqld = await startSqld({ dbPath: join(dir, 'db') })
  const { client } = await openNodeDb(sqld.url)
  client.close()
  project.provide('sqldUrl', sqld.url)
}

export async function teardown(): Promise<void> {
  await sqld?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
}
