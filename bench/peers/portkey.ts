/**
 * Portkey's open-source gateway (npm `@portkey-ai/gateway`), the peer the gateway benchmarks measure
 * beside the raw pass-through. Installed by the bench into bench/out/peers/portkey/ (git-ignored), never
 * into the project's dependencies, once per pinned version.
 *
 * const portkey = await ensurePortkey()   // { version, entry: '.../build/start-server.js' }
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The newest published version (`npm view @portkey-ai/gateway versions`); it declares no engines and runs on Node 20. */
export const PORTKEY_VERSION = '1.15.2'
/** Portkey's streaming needs this @hono/node-server (issue 13); its own range (^1.3.3) would pick a newer one. */
export const PORTKEY_HONO_NODE_SERVER = '1.13.5'

const dir = fileURLToPath(new URL('../out/peers/portkey/', import.meta.url))

export interface PortkeyInstall {
  version: string
  /** Portkey's Node entry (its package.json `bin`). */
  entry: string
}

function installedVersion(pkg: string): string | undefined {
  const manifest = `${dir}node_modules/${pkg}/package.json`
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : undefined
}

function npmInstall(): Promise<void> {
  return new Promise((resolve, reject) => {
    // --ignore-scripts: Portkey's only install script is patch-package, which has no patches in the published package.
    const child = spawn('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm install of @portkey-ai/gateway@${PORTKEY_VERSION} failed (${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`))))
  })
}

/** Installs the pinned Portkey (skipped when already there) and returns where its entry is. */
export async function ensurePortkey(): Promise<PortkeyInstall> {
  if (installedVersion('@portkey-ai/gateway') !== PORTKEY_VERSION || installedVersion('@hono/node-server') !== PORTKEY_HONO_NODE_SERVER) {
    mkdirSync(dir, { recursive: true })
    const manifest = {
      name: 'moe-gateway-bench-peer-portkey',
      private: true,
      description: 'Written by bench/peers/portkey.ts: the Portkey gateway the benchmarks compare against.',
      dependencies: { '@portkey-ai/gateway': PORTKEY_VERSION },
      overrides: { '@hono/node-server': PORTKEY_HONO_NODE_SERVER },
    }
    writeFileSync(`${dir}package.json`, `${JSON.stringify(manifest, null, 2)}\n`)
    process.stderr.write(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into bench/out/peers/portkey/ ...\n`)
    await npmInstall()
    const hono = installedVersion('@hono/node-server')
    if (hono !== PORTKEY_HONO_NODE_SERVER) throw new Error(`Portkey got @hono/node-server ${hono}, not ${PORTKEY_HONO_NODE_SERVER}`)
  }
  const bin = (JSON.parse(readFileSync(`${dir}node_modules/@portkey-ai/gateway/package.json`, 'utf8')) as { bin: string }).bin
  return { version: PORTKEY_VERSION, entry: `${dir}node_modules/@portkey-ai/gateway/${bin}` }
}
