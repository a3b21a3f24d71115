/**
 * Portkey's gateway on loopback only, in its own process; prints its URL. Args: entry (bench/peers/portkey.ts).
 * Its start-server.js calls @hono/node-server's serve({ fetch, port }) with no hostname, so it would
 * listen on every interface, and takes no host option: every listen in this process is forced onto
 * 127.0.0.1 (port 0), and each server's address is checked once it listens.
 */
import { Server } from 'node:net'
import { pathToFileURL } from 'node:url'

const entry = process.argv[2]
if (!entry) throw new Error('usage: portkey.ts <start-server.js>')

const listen = Server.prototype.listen
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const onListening = args.find((a) => typeof a === 'function') as (() => void) | undefined
  this.once('listening', () => {
    const address = this.address()
    if (typeof address !== 'object' || address?.address !== '127.0.0.1') {
      process.stderr.write(`portkey: listening on ${JSON.stringify(address)}, not loopback only\n`)
      process.exit(1)
    }
    process.stdout.write(`READY http://127.0.0.1:${address.port} ${address.address}\n`)
  })
  return onListening ? listen.call(this, { port: 0, host: '127.0.0.1' }, onListening) : listen.call(this, { port: 0, host: '127.0.0.1' })
} as Server['listen']

// --headless: no log-viewer UI routes, as Portkey is deployed as a service.
process.argv.splice(2, 1, '--headless')
await import(pathToFileURL(entry).href)
