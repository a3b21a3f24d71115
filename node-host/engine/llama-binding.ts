/**
 * The llama.cpp binding, loaded once per process from a variant folder (node-host/cpu/prebuilt-bins.ts),
 * so the CPU backend ggml loads is the one chosen for the model, not merely the best-scoring one.
 * CPU only, never built or downloaded at run time. maxThreads 0 makes each context use exactly the
 * threads it asks for. getLlama() has no option for the folder, so the binding is created the way
 * getLlama() creates a prebuilt one (node-llama-cpp 3.21.1 is pinned; tests load it on every run);
 * its own child-process binary test is skipped: node-host proves the model in a child itself.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { Llama, LlamaLogLevel } from 'node-llama-cpp'
import type { VariantFolder } from '../cpu/prebuilt-bins.js'

export type LlamaLogSink = (level: string, message: string) => void

interface LlamaFactory {
  _create(options: Record<string, unknown>): Promise<Llama>
}

let shared: { variant: string; llama: Promise<Llama> } | undefined
let sink: LlamaLogSink = () => {}

export function setLlamaLogSink(next: LlamaLogSink): void {
  sink = next
}

/** The variant this process's binding was loaded with, if it was. */
export function loadedVariant(): string | undefined {
  return shared?.variant
}

/** The binding an engine of this process already loaded (tests reuse it to tokenize independently). */
export function processLlama(): Promise<Llama> {
  return shared?.llama ?? Promise.reject(new Error('no llama.cpp binding loaded in this process yet'))
}

/** The process's binding, loading it from `folder` the first time; a second variant cannot be loaded. */
export function sharedLlama(folder: VariantFolder, logLevel = LlamaLogLevel.warn): Promise<Llama> {
  if (shared && shared.variant !== folder.variant) {
    return Promise.reject(new Error(`this process already loaded llama.cpp CPU variant ${shared.variant}; it cannot load ${folder.variant} too`))
  }
  if (!shared) {
    const entry = { variant: folder.variant, llama: loadLlama(folder, (level, message) => sink(level, message), logLevel) }
    entry.llama.catch(() => {
      if (shared === entry) shared = undefined
    })
    shared = entry
  }
  return shared.llama
}

export async function loadLlama(folder: VariantFolder, log: LlamaLogSink, logLevel = LlamaLogLevel.warn): Promise<Llama> {
  const bindings: unknown = createRequire(import.meta.url)(folder.bindingPath)
  const buildMetadata: unknown = JSON.parse(readFileSync(join(folder.dir, '_nlcBuildMetadata.json'), 'utf8'))
  return (Llama as unknown as LlamaFactory)._create({
    bindings,
    bindingPath: folder.bindingPath,
    buildType: 'prebuilt',
    buildMetadata,
    logLevel,
    // llama.cpp's own lines never contain prompts.
    logger: (level: LlamaLogLevel, message: string) => log(String(level), message.trim()),
    maxThreads: 0,
    vramPadding: 0,
    ramPadding: 0,
    debug: false,
    tempDir: false,
  })
}

/** The CPU variant libraries mapped into this process (Linux); what ggml really loaded. */
export function mappedCpuVariants(): string[] {
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8')
    return [...new Set([...maps.matchAll(/libggml-cpu-([\w.-]+?)\.(?:so|dylib|dll)/g)].map((m) => m[1]!))]
  } catch {
    return []
  }
}
