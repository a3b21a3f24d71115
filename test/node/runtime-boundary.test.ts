import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = join(import.meta.dirname, '../../src')
// Packages that only load on Node: a native binding, Node's sockets, or Node's HTTP server.
const NODE_ONLY_PACKAGES = ['libsql', 'undici', '@hono/node-server', 'node-llama-cpp', 'tsx']

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2] ?? m[3]!)
}

describe('src/ runs in workerd: Node-only code stays in src/node.ts and src/node/', () => {
  const files = tsFiles(SRC).map((path) => ({ path, name: relative(SRC, path) }))
  const shared = files.filter((f) => f.name !== 'node.ts' && !f.name.startsWith('node/'))

  it('finds the modules on both sides', () => {
    expect(shared.length).toBeGreaterThan(100)
    expect(files.filter((f) => f.name.startsWith('node/')).map((f) => f.name)).toContain('node/usage-file-inserter.ts')
  })

  it('no shared module imports node:*, a Node-only package or a Node-only module', () => {
    const offenders = shared.flatMap(({ path, name }) =>
      importsOf(readFileSync(path, 'utf8'))
        .filter((spec) => spec.startsWith('node:') || NODE_ONLY_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`)) || /(^|\/)node(\.js|\/)/.test(spec))
        .map((spec) => `${name} imports ${spec}`),
    )
    expect(offenders).toEqual([])
  })

  it('the check sees an offending import (so an empty list above means something)', () => {
    expect(importsOf("import { x } from 'node:fs'\nimport type { Y } from '../node/open-db.js'\nconst m = await import('libsql')")).toEqual(['node:fs', '../node/open-db.js', 'libsql'])
  })
})
