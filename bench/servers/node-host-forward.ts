// A real node-host process in forward mode in front of an OpenAI-compatible engine; prints its URL. Args: upstream secret.
import { startNodeHost } from '../../node-host/serve.js'

const [upstream, secret] = process.argv.slice(2)
if (!upstream || !secret) throw new Error('usage: node-host-forward.ts <upstream> <secret>')
const host = await startNodeHost({ upstream, secret, parallel: 1, maxQueue: 16 })
process.stdout.write(`READY ${host.url}\n`)
process.on('SIGTERM', () => void host.close().then(() => process.exit(0)))
