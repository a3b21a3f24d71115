// A real node-host process serving a GGUF in-process; prints its URL. Args: model threads parallel contextSize secret [cpuVariant [batching]].
import { isBatchingPolicy } from '../../node-host/engine/decode-mode.js'
import { startNodeHost } from '../../node-host/serve.js'

const [model, threads, parallel, contextSize, secret, cpuVariant, batching] = process.argv.slice(2)
if (!model || !threads || !parallel || !contextSize || !secret) throw new Error('usage: node-host.ts <model> <threads> <parallel> <contextSize> <secret>')
if (batching !== undefined && !isBatchingPolicy(batching)) throw new Error(`unknown batching policy ${batching}`)
const host = await startNodeHost({ model, secret, threads: Number(threads), parallel: Number(parallel), contextSize: Number(contextSize), maxQueue: 16, cpuVariant: cpuVariant ?? 'auto', batching })
process.stdout.write(`READY ${host.url}\n`)
process.on('SIGTERM', () => void host.close().then(() => process.exit(0)))
