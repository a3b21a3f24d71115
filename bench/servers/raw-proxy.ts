/**
 * The baseline: the least a pass-through can do. node:http in, undici (keep-alive) out,
 * body piped both ways, no auth, no parsing, no metering.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'
import { Agent, request } from 'undici'

const upstream = process.argv[2]!
// Idle sockets dropped before Node's 5 s server timeout, as the gateway does (src/node/undici-upstream.ts):
// with 30 s, bursts reused sockets the fake upstream was closing (ECONNRESET). No retry: the floor.
const dispatcher = new Agent({ keepAliveTimeout: 4_000, connections: 256 })
const server = createServer(async (req, res) => {
  try {
    const answer = await request(`${upstream}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-fake-deepseek', 'content-type': 'application/json' },
      body: req,
      dispatcher,
    })
    res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') })
    await pipeline(answer.body, res)
  } catch {
    if (!res.headersSent) res.writeHead(502)
    res.end()
  }
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}\n`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
