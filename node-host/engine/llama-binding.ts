/**
 * The llama.cpp binding, loaded once per process: getLlama() tests the prebuilt binary in a child
 * process (~3 s on a busy 2-core box), so engines share it. CPU only, and never built or downloaded at
 * run time. maxThreads 0 makes each context use exactly the threads it asks for.
 */
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp'

let shared: Promise<Llama> | undefined
let log: (level: string, message: string) => void = () => {}

export function setLlamaLogSink(sink: (level: string, message: string) => void): void {
  log = sink
}

export function sharedLlama(): Promise<Llama> {
  shared ??= getLlama({
    gpu: false,
    build: 'never',
    maxThreads: 0,
    logLevel: LlamaLogLevel.warn,
    // llama.cpp's own lines never contain prompts.
    logger: (level, message) => log(String(level), message.trim()),
  }).catch((err: unknown) => {
    shared = undefined
    throw err
  })
  return shared
}
