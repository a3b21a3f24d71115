/**
 * node-llama-cpp's prebuilt llama.cpp for this platform, and per-variant copies of its folder.
 * ggml loads the best-scoring `libggml-cpu-*.so` in the folder the binding sits in, so a folder of
 * symlinks holding only one variant makes ggml load exactly that one. The package is never modified.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export interface PrebuiltBins {
  /** The package's folder for this platform (holds llama-addon.node and the variants). */
  dir: string
  packageVersion: string
  /** Variant names found there (`libggml-cpu-<name>.so`); empty where the build has one CPU library. */
  variants: string[]
}

/** A folder ggml can load from that offers exactly one CPU variant (or every one, for `all`). */
export interface VariantFolder {
  variant: string
  dir: string
  bindingPath: string
}

const VARIANT_FILE = /^libggml-cpu-(.+)\.(?:so|dll|dylib)$/

export function nodeHostCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NODE_HOST_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'moe-gateway', 'node-host')
}

function platformFolder(): string {
  const platform = process.platform === 'darwin' ? 'mac' : process.platform === 'win32' ? 'win' : process.platform
  return `${platform}-${process.arch}${platform === 'mac' && process.arch === 'arm64' ? '-metal' : ''}`
}

let found: Promise<PrebuiltBins> | undefined

export function findPrebuiltBins(): Promise<PrebuiltBins> {
  found ??= (async () => {
    const folder = platformFolder()
    // The same package node-llama-cpp's getLlama() picks for a CPU build on this platform.
    const pkg = (await import(`@node-llama-cpp/${folder}`)) as { getBinsDir(): { binsDir: string; packageVersion: string } }
    const { binsDir, packageVersion } = pkg.getBinsDir()
    const dir = join(binsDir, folder)
    const variants = readdirSync(dir).flatMap((file) => VARIANT_FILE.exec(file)?.[1] ?? [])
    return { dir, packageVersion, variants: variants.sort() }
  })().catch((err: unknown) => {
    found = undefined
    throw new Error(`no prebuilt llama.cpp binary for ${platformFolder()}: ${err instanceof Error ? err.message : String(err)}`)
  })
  return found
}

/**
 * The folder for `variant` ('all' keeps every variant, so ggml chooses), made once under the cache
 * directory and reused. Made in a temp folder and renamed, so concurrent processes never see half of one.
 */
export function variantFolder(bins: PrebuiltBins, variant: string, cacheDir = nodeHostCacheDir()): VariantFolder {
  if (variant !== 'all' && bins.variants.length > 0 && !bins.variants.includes(variant)) {
    throw new Error(`unknown CPU variant "${variant}"; this llama.cpp build has: ${bins.variants.join(', ')}`)
  }
  const buildId = createHash('sha256').update(`${bins.dir}\n${bins.packageVersion}`).digest('hex').slice(0, 12)
  const dir = join(cacheDir, 'llama-bins', `${bins.packageVersion}-${buildId}`, variant)
  const bindingPath = join(dir, 'llama-addon.node')
  if (existsSync(bindingPath)) return { variant, dir, bindingPath }
  const temp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  mkdirSync(temp, { recursive: true })
  for (const file of readdirSync(bins.dir)) {
    const other = VARIANT_FILE.exec(file)?.[1]
    if (other !== undefined && variant !== 'all' && other !== variant) continue
    symlinkSync(join(bins.dir, file), join(temp, file))
  }
  try {
    renameSync(temp, dir)
  } catch (err) {
    rmSync(temp, { recursive: true, force: true })
    if (!existsSync(bindingPath)) throw err // anything but "another process made it first"
  }
  return { variant, dir, bindingPath }
}
